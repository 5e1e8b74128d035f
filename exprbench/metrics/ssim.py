"""SSIM per frame (gaussian kernel 11, sigma 1.5) on RGB in [0, 1], mean per video.

The SSIM map is averaged over the valid region only (windows that stay inside the image, i.e. a
border of (kernel_size - 1) / 2 = 5 pixels is excluded), as in Wang et al.'s reference implementation
and scikit-image. torchmetrics 1.9 averages the whole map including a reflect-padded border, which
reads about 0.003 higher on 640x360 frames; the protocol pins the standard definition.

The local statistics are computed in float64 with OpenCV's separable Gaussian filter, then cropped
to the valid region: the same values as torchmetrics' 2-D convolution cropped the same way (within
3e-6, its float32 rounding), about 3.5x faster on a CPU, and without float32 cancellation in
E[x^2] - mu^2. On CUDA the same float64 statistics come from a separable 'valid' convolution in
torch (``ssim_torch``), which equals the OpenCV path to about 1e-15 (tested on the CPU, where both run).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from exprbench.metrics.base import PairedVideoMetric
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import SsimProtocol


def _gaussian(p: SsimProtocol) -> np.ndarray:
    if not p.gaussian_kernel:
        raise ValueError("protocol SSIM uses a gaussian window")
    offsets = np.arange(p.kernel_size, dtype=np.float64) - (p.kernel_size - 1) / 2
    g = np.exp(-offsets**2 / (2 * p.sigma**2))
    return g / g.sum()


def _constants(p: SsimProtocol) -> tuple[float, float]:
    return (p.k1 * p.data_range) ** 2, (p.k2 * p.data_range) ** 2


def ssim_opencv(generated: torch.Tensor, reference: torch.Tensor, p: SsimProtocol) -> np.ndarray:
    """Per-frame SSIM of ``(n, 3, H, W)`` frames with OpenCV's float64 separable filter (the CPU path)."""
    import cv2  # here, not at module level: the CUDA path (``ssim_torch``) must import without OpenCV

    g = _gaussian(p)
    pad = (p.kernel_size - 1) // 2
    c1, c2 = _constants(p)
    scores = np.empty(len(generated), dtype=np.float64)

    def local(plane: np.ndarray) -> np.ndarray:
        """Gaussian-weighted local mean over the windows that stay inside the image."""
        return cv2.sepFilter2D(plane, cv2.CV_64F, g, g, borderType=cv2.BORDER_CONSTANT)[pad:-pad, pad:-pad]

    for i in range(len(generated)):  # one frame in float64 at a time: a 4K frame's maps are 0.2 GB each
        x = generated[i].detach().cpu().double().numpy()
        y = reference[i].detach().cpu().double().numpy()
        maps = []
        for xc, yc in zip(x, y):
            mu_x, mu_y = local(xc), local(yc)
            var_x, var_y = local(xc * xc) - mu_x**2, local(yc * yc) - mu_y**2
            cov = local(xc * yc) - mu_x * mu_y
            maps.append(((2 * mu_x * mu_y + c1) * (2 * cov + c2))
                        / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)))
        scores[i] = np.mean(maps)
    return scores


def ssim_torch(generated: torch.Tensor, reference: torch.Tensor, p: SsimProtocol) -> np.ndarray:
    """Per-frame SSIM of ``(n, 3, H, W)`` frames in float64 on their device (the CUDA path).

    The five local statistics (mu_x, mu_y, E[x^2], E[y^2], E[xy]) of every channel are one grouped
    separable convolution without padding, i.e. exactly the valid region the OpenCV path crops to.
    """
    x, y = generated.double(), reference.double()
    n, channels, height, width = x.shape
    g = torch.as_tensor(_gaussian(p), dtype=torch.float64, device=x.device)
    k = p.kernel_size
    groups = channels * 5
    planes = torch.stack([x, y, x * x, y * y, x * y], dim=2).reshape(n, groups, height, width)
    stats = F.conv2d(planes, g.view(1, 1, k, 1).expand(groups, 1, k, 1), groups=groups)
    stats = F.conv2d(stats, g.view(1, 1, 1, k).expand(groups, 1, 1, k), groups=groups)
    mu_x, mu_y, xx, yy, xy = stats.reshape(n, channels, 5, *stats.shape[-2:]).unbind(dim=2)
    c1, c2 = _constants(p)
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    maps = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return maps.mean(dim=(1, 2, 3)).cpu().numpy()


class SSIM(PairedVideoMetric):
    """``ssim@v2``: per-frame SSIM over the valid region; OpenCV on the CPU, torch float64 on CUDA."""

    name = "ssim"
    protocol: SsimProtocol

    def _score_batch(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        if self.device.type == "cpu":
            return ssim_opencv(generated, reference, self.protocol)
        return ssim_torch(generated, reference, self.protocol)


register_metric(MetricSpec.from_protocol("ssim", "paired", SSIM))
