"""FVD: I3D features of fixed 16-frame windows, streaming float64 statistics over a split.

The detector is the StyleGAN-V TorchScript port of the TF-hub I3D (asset ``fvd_i3d``), loaded with
``torch.jit.load`` and called as ``detector(videos, rescale=False, resize=False,
return_features=True)`` on ``(B, 3, 16, 224, 224)`` float32 in [-1, 1]: resizing and scaling are done
here by the protocol's rule instead of inside the detector, so the filter is pinned. Windows are fixed
(non-overlapping, from frame 0, short tail dropped) and published by ``fvd_windows`` rather than
random (HelloMeme-style random windows change FVD on every run). Fewer than ``min_videos`` videos
gives a warning in the result: FVD from a handful of videos is dominated by sampling noise.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

from exprbench.metrics.base import (
    FeatureNetwork,
    SetMetric,
    frames_to_device,
    load_asset_or_unavailable,
)
from exprbench.metrics.frames import Frames, frame_count, prepare
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import FvdProtocol, metric_protocol

I3D_FILE = "i3d_torchscript.pt"


def fvd_windows(n_frames: int) -> list[tuple[int, int]]:
    """The protocol's windows of a video of ``n_frames`` frames as (start, stop) frame indices."""
    p: FvdProtocol = metric_protocol("fvd")
    return [(s, s + p.window) for s in range(p.first_frame, n_frames - p.window + 1, p.stride)]


def load_i3d(path: str, device: str = "cpu") -> FeatureNetwork:
    """The I3D TorchScript detector in ``path`` wrapped as a feature network (dim probed once)."""
    p: FvdProtocol = metric_protocol("fvd")
    with warnings.catch_warnings():  # the published detector is TorchScript, deprecated but supported in torch 2.x
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch.jit")
        detector = torch.jit.load(path, map_location=device).eval()

    def forward(videos: torch.Tensor) -> torch.Tensor:
        return detector(videos, rescale=False, resize=False, return_features=True)

    with torch.inference_mode():
        dim = forward(torch.zeros((1, 3, p.window, *p.size), device=device)).reshape(1, -1).shape[1]
    return FeatureNetwork(name=f"StyleGAN-V I3D TorchScript ({I3D_FILE})", forward=forward, dim=int(dim))


@functools.cache
def _i3d_network(device: str) -> FeatureNetwork:
    path = load_asset_or_unavailable(metric_protocol("fvd").key, "fvd_i3d", "the FVD I3D detector", I3D_FILE)
    return load_i3d(str(path), device)


class FVD(SetMetric):
    """``fvd@v2``: windows of generated videos against windows of ground-truth videos, over a split.

    ``update_generated`` / ``update_reference`` / ``features`` take one whole video per call
    (uint8 ``(T, H, W, 3)`` or float ``(T, 3, H, W)`` in [0, 1]); a video shorter than 16 frames
    contributes no window and is counted in the warnings.
    """

    name = "fvd"
    protocol: FvdProtocol

    def __init__(self, network: FeatureNetwork | None = None, batch_size: int = 4,
                 device: str | torch.device = "cpu") -> None:
        super().__init__(network=network, batch_size=batch_size, device=device)

    @classmethod
    def default_network(cls, device: torch.device) -> FeatureNetwork:
        return _i3d_network(str(device))

    def features(self, frames: Frames) -> np.ndarray:
        lo, hi = self.protocol.value_range
        windows = fvd_windows(frame_count(frames))
        out = []
        for i in range(0, len(windows), self.batch_size):
            clips = [prepare(frames_to_device(frames[a:b], self.device), self.protocol.size).permute(1, 0, 2, 3)
                     for a, b in windows[i:i + self.batch_size]]
            out.append(self._run(torch.stack(clips) * (hi - lo) + lo))
        return np.concatenate(out) if out else np.zeros((0, self.network.dim), dtype=np.float32)

    def block_frames(self) -> int | None:
        """``batch_size`` windows' worth of frames when the protocol's windows tile the video from frame 0
        (stride = window, first frame 0: a block then holds exactly ``batch_size`` windows); else None."""
        p = self.protocol
        return p.window * self.batch_size if p.stride == p.window and p.first_frame == 0 else None

    def warnings(self) -> list[str]:
        notes = self._sample_warnings()
        for side in ("generated", "reference"):
            if self.videos[side] < self.protocol.min_videos:
                notes.append(f"{side}: {self.videos[side]} videos, below the {self.protocol.min_videos} at which "
                             "FVD is meaningful; differences between methods may be sampling noise")
            if self.empty_videos[side]:
                notes.append(f"{side}: {self.empty_videos[side]} videos shorter than {self.protocol.window} frames "
                             "contributed no window")
        return notes


register_metric(MetricSpec.from_protocol("fvd", "set", FVD))
