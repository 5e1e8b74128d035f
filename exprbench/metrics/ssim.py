"""SSIM per frame with torchmetrics (gaussian kernel 11, sigma 1.5) on RGB in [0, 1], mean per video."""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.image import structural_similarity_index_measure

from exprbench.metrics.base import PairedVideoMetric
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import SsimProtocol


class SSIM(PairedVideoMetric):
    """``ssim@v1``: per-frame SSIM averaged over the map and the three channels."""

    name = "ssim"
    protocol: SsimProtocol

    def _score_batch(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        p = self.protocol
        values = structural_similarity_index_measure(
            generated, reference, gaussian_kernel=p.gaussian_kernel, sigma=p.sigma, kernel_size=p.kernel_size,
            reduction="none", data_range=p.data_range, k1=p.k1, k2=p.k2)
        return values.reshape(-1).cpu().numpy().astype(np.float64)


register_metric(MetricSpec.from_protocol("ssim", "paired", SSIM))
