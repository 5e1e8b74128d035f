"""FID: pytorch-fid's InceptionV3 pool features (2048-d) of every frame, streaming float64 statistics.

The network is pytorch-fid's FID Inception (``InceptionV3([3])``: the TF-ported Inception with the
FID weights ``pt_inception-2015-12-05``), built here from pytorch-fid's own block classes because its
constructor downloads the weights; ours come from the checksummed ``fid_inception`` asset, loaded
with ``weights_only=True``. pytorch-fid resizes inside the network with bilinear interpolation; the
protocol instead resizes to 299x299 beforehand with its antialiased bicubic rule (clean-fid's
finding), so the network's own resize is not used. Without the weights the metric raises
``MetricUnavailable`` naming the fetch command, and eval reports FID as unavailable.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from exprbench.metrics.base import (
    FeatureNetwork,
    SetMetric,
    frames_to_device,
    load_asset_or_unavailable,
)
from exprbench.metrics.frames import Frames, frame_count, prepare
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import FidProtocol, metric_protocol

FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"


def fid_inception_structure() -> nn.Module:
    """pytorch-fid's FID Inception (torchvision InceptionV3 with FID blocks), uninitialised.

    pytorch-fid (and through it torchvision) is imported here, not at module level, so the metric
    registry imports on a bare CUDA machine without them (benchmarks/gpu_check.py).
    """
    from pytorch_fid.inception import (
        FIDInceptionA,
        FIDInceptionC,
        FIDInceptionE_1,
        FIDInceptionE_2,
        _inception_v3,
    )

    net = _inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


class InceptionPool3(nn.Module):
    """Blocks 0-3 of pytorch-fid's ``InceptionV3``: [0, 1] input -> 2048-d final average pool."""

    def __init__(self, inception: nn.Module) -> None:
        super().__init__()
        i = inception
        self.blocks = nn.Sequential(
            i.Conv2d_1a_3x3, i.Conv2d_2a_3x3, i.Conv2d_2b_3x3, nn.MaxPool2d(kernel_size=3, stride=2),
            i.Conv2d_3b_1x1, i.Conv2d_4a_3x3, nn.MaxPool2d(kernel_size=3, stride=2),
            i.Mixed_5b, i.Mixed_5c, i.Mixed_5d, i.Mixed_6a, i.Mixed_6b, i.Mixed_6c, i.Mixed_6d, i.Mixed_6e,
            i.Mixed_7a, i.Mixed_7b, i.Mixed_7c, nn.AdaptiveAvgPool2d(output_size=(1, 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(2.0 * x - 1.0).flatten(1)  # pytorch-fid's normalize_input: [0, 1] -> [-1, 1]


def load_fid_inception(path: str, device: str = "cpu") -> InceptionPool3:
    """The pool-3 network with the FID weights in ``path`` (a state dict; loaded strictly)."""
    inception = fid_inception_structure()
    inception.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    return InceptionPool3(inception).eval().requires_grad_(False).to(device)


@functools.cache
def _fid_network(device: str) -> FeatureNetwork:
    entry = metric_protocol("fid")
    path = load_asset_or_unavailable(entry.key, "fid_inception", "the FID Inception weights", FID_WEIGHTS_FILE)
    return FeatureNetwork(name=f"pytorch-fid InceptionV3 pool3 ({FID_WEIGHTS_FILE})",
                          forward=load_fid_inception(str(path), device), dim=entry.feature_dim)


class FID(SetMetric):
    """``fid@v2``: generated frames against ground-truth frames, pooled over a split.

    ``features(frames)`` takes one video's frames (uint8 ``(T, H, W, 3)`` or float ``(T, 3, H, W)``
    in [0, 1], e.g. face regions from ``crop_regions``) and may be called chunk by chunk, since FID
    treats frames independently.
    """

    name = "fid"
    protocol: FidProtocol

    @classmethod
    def default_network(cls, device: torch.device) -> FeatureNetwork:
        return _fid_network(str(device))

    def features(self, frames: Frames) -> np.ndarray:
        n = frame_count(frames)
        out = [self._run(prepare(frames_to_device(frames[i:i + self.batch_size], self.device), self.protocol.size))
               for i in range(0, n, self.batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.network.dim), dtype=np.float32)


register_metric(MetricSpec.from_protocol("fid", "set", FID))
