"""LPIPS AlexNet v0.1 per frame (inputs scaled to [-1, 1]), mean per video.

The network is lpips 0.1.4's ``LPIPS(net='alex', version='0.1')``: its v0.1 linear heads ship in the
lpips wheel, and its ImageNet AlexNet backbone (which lpips would download from download.pytorch.org)
comes from the checksummed ``lpips_alexnet`` asset. Built with ``pnet_rand=True`` so lpips never
tries the network, then the backbone is loaded strictly, so a missing or misnamed tensor fails
loudly instead of leaving random weights. Built once per process and device; on CUDA it runs with
TF32 off (``exact_float32``) so values match the CPU within ``PROTOCOL.parity``.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

from exprbench.metrics.base import (
    PairedVideoMetric,
    exact_float32,
    load_asset_or_unavailable,
)
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import LpipsProtocol, metric_protocol


def _backbone_state(lpips_net: torch.nn.Module, features_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename torchvision ``features.<i>.<param>`` keys to lpips' ``slice<k>.<i>.<param>``."""
    slice_of = {layer: slice_name for slice_name, block in lpips_net.named_children()
                for layer, _ in block.named_children()}
    renamed = {}
    for key, tensor in features_state.items():
        prefix, layer, param = key.split(".", 2)
        if prefix != "features" or layer not in slice_of:
            raise ValueError(f"unexpected tensor {key!r} in the AlexNet backbone file")
        renamed[f"{slice_of[layer]}.{layer}.{param}"] = tensor
    return renamed


@functools.cache
def lpips_network(device: str = "cpu") -> torch.nn.Module:
    """The LPIPS AlexNet v0.1 network with the ImageNet backbone, in eval mode, loaded once.

    lpips (which needs torchvision and scipy) is imported here, so the metric registry imports without
    it on a bare CUDA machine (benchmarks/gpu_check.py).
    """
    import lpips as lpips_lib

    entry = metric_protocol("lpips")
    path = load_asset_or_unavailable(entry.key, "lpips_alexnet", "the LPIPS AlexNet backbone",
                                     "alexnet_features.pth")
    with warnings.catch_warnings():  # lpips 0.1.4 passes torchvision's deprecated `pretrained=` argument
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        net = lpips_lib.LPIPS(net=entry.net, version=entry.lpips_version, pretrained=True, pnet_rand=True,
                              verbose=False)
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.net.load_state_dict(_backbone_state(net.net, state), strict=True)
    net.eval().requires_grad_(False)
    return net.to(device)


class LPIPS(PairedVideoMetric):
    """``lpips@v2``: per-frame LPIPS distance (0 for identical frames)."""

    name = "lpips"
    protocol: LpipsProtocol

    def __init__(self, batch_size: int = 8, device: str | torch.device = "cpu") -> None:
        super().__init__(batch_size=batch_size, device=device)
        self.network = lpips_network(str(self.device))

    def _score_batch(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        lo, hi = self.protocol.value_range
        with torch.inference_mode(), exact_float32():
            values = self.network(generated * (hi - lo) + lo, reference * (hi - lo) + lo)
        return values.reshape(-1).cpu().numpy().astype(np.float64)


register_metric(MetricSpec.from_protocol("lpips", "paired", LPIPS))
