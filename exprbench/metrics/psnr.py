"""PSNR (dB) per frame with torchmetrics on RGB in [0, 1], reduced per video by the protocol's rule.

Computed in float64: uint8 frames divided by 255 are then exact to 1e-16, so the value does not
depend on float32 accumulation order over a frame's ~700k samples.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio

from exprbench.metrics.base import PairedVideoMetric
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import PsnrProtocol


class PSNR(PairedVideoMetric):
    """``psnr@v1``: per-frame PSNR; a bit-identical frame gives +inf (kept in ``per_frame``)."""

    name = "psnr"
    protocol: PsnrProtocol

    def _score_batch(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        values = peak_signal_noise_ratio(generated.double(), reference.double(), data_range=self.protocol.data_range,
                                         reduction="none", dim=(1, 2, 3))
        return values.cpu().numpy().astype(np.float64)

    def reduce_video(self, per_frame: np.ndarray) -> float:
        """Mean of min(PSNR, cap) over scored frames; +inf only if every scored frame is identical.

        Why the cap: one bit-exact frame (e.g. frame 0 of an oracle copy) would otherwise make the
        video's and the split's mean infinite and hide every other frame; with the cap it still
        counts as better than any imperfect frame. An identical video stays +inf (as a sanity check
        of ground truth against itself should read).
        """
        scored = per_frame[~np.isnan(per_frame)]
        if scored.size == 0:
            return float("nan")
        if np.all(np.isposinf(scored)):
            return float("inf")
        return float(np.minimum(scored, self.protocol.averaging_cap_db).mean())


register_metric(MetricSpec.from_protocol("psnr", "paired", PSNR))
