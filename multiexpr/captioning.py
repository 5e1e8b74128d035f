"""Optional captioning through a pluggable interface (no captioner is bundled).

The paper captioned Multi-Expr with CogVLM2 and published the prompts only later, and partly (issue #10):
here the captioner's name and prompt are part of the configuration, so they are recorded in
``run_config.json`` and the config hash, and every row says which captioner wrote its caption.

A captioner is any object with ``name``, ``prompt`` and ``caption(frames, clip)``; pass it to the CLI as
``--captioner package.module:factory`` where ``factory()`` returns one. It runs in every worker process,
so the factory must be importable there.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

import numpy as np

from exprbench.errors import InputError


@runtime_checkable
class Captioner(Protocol):
    name: str
    prompt: str

    def caption(self, frames: np.ndarray, clip: dict) -> str:
        """A caption for the clip's 25 fps frames (T, H, W, 3) uint8; ``clip`` is its annotation row."""


def load_captioner(spec: str) -> Captioner:
    """Instantiate ``module:attribute`` (a class or factory taking no arguments)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise InputError(None, f"--captioner {spec!r} must look like package.module:factory")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(None, f"cannot load captioner {spec!r}: {exc}", "check it is importable") from None
    captioner = factory()
    if not isinstance(captioner, Captioner):
        raise InputError(None, f"captioner {spec!r} lacks name, prompt or caption(frames, clip)")
    return captioner
