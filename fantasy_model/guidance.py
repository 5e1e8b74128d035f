"""Expression and text classifier-free guidance, with the release's formulas and pass structure (spec §7).

* expression guidance only (ip_cfg > 1, cfg == 1): 2 DiT passes,
  pred = noexpr + ip_cfg * (full - noexpr)
* both (ip_cfg > 1, cfg != 1): 3 passes,
  pred = uncond + cfg * (noexpr - uncond) + ip_cfg * (full - noexpr)
* text only (ip_cfg <= 1, cfg != 1): pred = uncond + cfg * (full - uncond), uncond keeps the expression
* neither: pred = full

"noexpr" and (when expression guidance is on) "uncond" run with ip_scale = 0; "uncond" uses the
negative prompt. The release tests `cfg != 1.0`, not `cfg > 1`, and so does this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GuidancePlan:
    """Which extra DiT passes one denoising step needs."""

    expression: bool
    text: bool

    @property
    def passes(self) -> int:
        return 1 + int(self.expression) + int(self.text)


def plan_guidance(expression_scale: float, text_scale: float) -> GuidancePlan:
    return GuidancePlan(expression=expression_scale > 1.0, text=text_scale != 1.0)


def combine(
    full: torch.Tensor,
    no_expression: torch.Tensor | None,
    unconditional: torch.Tensor | None,
    expression_scale: float,
    text_scale: float,
) -> torch.Tensor:
    """Guided velocity from the passes selected by `plan_guidance`."""
    plan = plan_guidance(expression_scale, text_scale)
    if plan.expression and no_expression is None or plan.text and unconditional is None:
        raise ValueError("the passes required by these guidance scales were not provided")
    if plan.expression and plan.text:
        return unconditional + text_scale * (no_expression - unconditional) + expression_scale * (full - no_expression)
    if plan.expression:
        return no_expression + expression_scale * (full - no_expression)
    if plan.text:
        return unconditional + text_scale * (full - unconditional)
    return full
