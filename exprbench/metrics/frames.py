"""Frame conversion, protocol resizing and face-region cropping shared by all pixel/feature metrics.

Metrics accept either decoded frames (``(T, H, W, 3)`` uint8 RGB, what ``exprbench.video`` returns)
or already-prepared float frames (``(T, 3, H, W)`` float32 in [0, 1], what ``crop_regions`` returns
for a face region). Keeping one conversion and one resize function here is what makes "the
protocol's resize rule" a single implementation rather than one per metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from exprbench.protocol import PROTOCOL

Frames = np.ndarray | torch.Tensor
Box = Sequence[float]
Region = tuple[int, int, int, int]

_CROP_BATCH = 32  # frames resized together: bounds memory for large regions


def frame_count(frames: Frames) -> int:
    return int(frames.shape[0])


def frame_size(frames: Frames) -> tuple[int, int]:
    """(H, W) of uint8 (T, H, W, 3) or float (T, 3, H, W) frames."""
    if isinstance(frames, np.ndarray) or frames.dtype == torch.uint8:
        return int(frames.shape[1]), int(frames.shape[2])
    return int(frames.shape[2]), int(frames.shape[3])


def to_unit_tensor(frames: Frames) -> torch.Tensor:
    """``(T, 3, H, W)`` float32 in [0, 1] from uint8 ``(T, H, W, 3)`` (array, or tensor on any device)
    or an already converted tensor; a tensor stays on its device."""
    if isinstance(frames, np.ndarray):
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected (T, H, W, 3) uint8 RGB frames, got {frames.dtype} {frames.shape}")
        if not frames.flags.writeable:  # decoders may hand out read-only buffers; torch wants writable ones
            frames = frames.copy()
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if frames.dtype == torch.uint8:
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected (T, H, W, 3) uint8 RGB frames, got {tuple(frames.shape)}")
        return frames.permute(0, 3, 1, 2).float().div_(255.0)
    if frames.dtype != torch.float32 or frames.ndim != 4 or frames.shape[1] != 3:
        raise ValueError(f"expected (T, 3, H, W) float32 frames in [0, 1], got {frames.dtype} {tuple(frames.shape)}")
    return frames


def resize_unit(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize ``(N, 3, H, W)`` float frames in [0, 1] to ``size`` = (H, W) with the protocol's rule.

    Antialiased bicubic (PIL-equivalent), no quantisation, clamped back to [0, 1]; a frame already of
    that size is returned unchanged, so native-size metrics never resample.
    """
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    rule = PROTOCOL.resize
    out = F.interpolate(frames, size=tuple(size), mode=rule.method, antialias=rule.antialias, align_corners=False)
    return out.clamp_(0.0, 1.0) if rule.clamp_to_range else out


def prepare(frames: Frames, size: tuple[int, int] | None) -> torch.Tensor:
    """Convert to float [0, 1] and, if ``size`` is given, resize with the protocol's rule."""
    unit = to_unit_tensor(frames)
    return unit if size is None else resize_unit(unit, size)


def face_region(box: Box, image_size: tuple[int, int], margin: float | None = None) -> Region:
    """The protocol's square region ``(x0, y0, x1, y1)`` (integer pixels, x1/y1 exclusive) of a face box.

    ``box`` is ``(x0, y0, x1, y1)`` in pixels and ``image_size`` is (H, W). See
    ``PROTOCOL.face_region.definition``: the box enlarged by ``margin`` times its larger side on each
    side, squared about its centre, capped at min(H, W) and shifted inside the image.
    """
    margin = PROTOCOL.face_region.margin if margin is None else margin
    height, width = image_size
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 > x0 and y1 > y0) or not np.isfinite([x0, y0, x1, y1]).all():
        raise ValueError(f"face box {tuple(box)} is empty or not finite")
    side = round((1.0 + 2.0 * margin) * max(x1 - x0, y1 - y0))
    side = max(1, min(side, height, width))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    left = min(max(round(cx - side / 2.0), 0), width - side)
    top = min(max(round(cy - side / 2.0), 0), height - side)
    return left, top, left + side, top + side


def crop_regions(frames: Frames, regions: Region | Sequence[Region], size: tuple[int, int] | None = None
                 ) -> torch.Tensor:
    """Cut a region from every frame and resize it: ``(T, 3, h, w)`` float32 in [0, 1].

    ``regions`` is one region for all frames or one per frame (from ``face_region``); ``size``
    defaults to the protocol's paired face-region size (256x256). Each crop is resized directly from
    the source pixels, so a region goes through one resampling only.
    """
    size = PROTOCOL.face_region.paired_size if size is None else size
    n = frame_count(frames)
    single = len(regions) == 4 and np.isscalar(regions[0])
    per_frame = [tuple(int(v) for v in (regions if single else r)) for r in (range(n) if single else regions)]
    if len(per_frame) != n:
        raise ValueError(f"{len(per_frame)} regions for {n} frames")
    out = torch.empty((n, 3, *size), dtype=torch.float32)
    start = 0
    while start < n:  # consecutive frames sharing a region are resized as one batch
        stop = start + 1
        while stop < n and stop - start < _CROP_BATCH and per_frame[stop] == per_frame[start]:
            stop += 1
        x0, y0, x1, y1 = per_frame[start]
        if not (0 <= x0 < x1 and 0 <= y0 < y1):
            raise ValueError(f"invalid region {per_frame[start]}")
        chunk = (frames[start:stop, :, y0:y1, x0:x1] if isinstance(frames, torch.Tensor)
                 else frames[start:stop, y0:y1, x0:x1])
        out[start:stop] = resize_unit(to_unit_tensor(chunk), size)
        start = stop
    return out
