"""SSIM per frame with torchmetrics (gaussian kernel 11, sigma 1.5) on RGB in [0, 1], mean per video.

The SSIM map comes from torchmetrics; its mean is taken over the valid region only (the border of
(kernel_size - 1) / 2 = 5 pixels whose windows would reach outside the image is cropped), as in Wang
et al.'s reference implementation and scikit-image. torchmetrics 1.9 averages the whole map including
that reflect-padded border, which reads about 0.003 higher on 640x360 frames; the protocol pins the
standard definition so the number matches the common reference implementations.
"""

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
        _, ssim_map = structural_similarity_index_measure(
            generated, reference, gaussian_kernel=p.gaussian_kernel, sigma=p.sigma, kernel_size=p.kernel_size,
            reduction="none", data_range=p.data_range, k1=p.k1, k2=p.k2, return_full_image=True)
        pad = (p.kernel_size - 1) // 2
        valid = ssim_map[..., pad:-pad, pad:-pad]
        return valid.double().mean(dim=(1, 2, 3)).cpu().numpy()


register_metric(MetricSpec.from_protocol("ssim", "paired", SSIM))
