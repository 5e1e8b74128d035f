"""Sliding windows for videos longer than one generation window.

Each window is a normal 4k+1-frame I2V generation whose first frame is conditioned on a frame the
previous window already produced; consecutive windows overlap and are cross-faded there.
"""

from __future__ import annotations

import numpy as np


def plan_windows(total_frames: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """Half-open [start, end) frame ranges of length `window` covering `total_frames`.

    The last window is aligned to the end of the video (its overlap may then be larger than
    `overlap`), so every window keeps the full 4k+1 length the model was run with.
    """
    if window < 5 or (window - 1) % 4:
        raise ValueError(f"window must be 4k+1 and at least 5 frames, got {window}")
    if not 0 < overlap < window:
        raise ValueError(f"overlap must be in (0, window), got {overlap}")
    if total_frames <= window:
        return [(0, total_frames)]
    stride = window - overlap
    starts = list(range(0, total_frames - window + 1, stride))
    if starts[-1] + window < total_frames:
        starts.append(total_frames - window)
    return [(s, s + window) for s in starts]


def blend_windows(clips: list[np.ndarray], ranges: list[tuple[int, int]], total_frames: int) -> np.ndarray:
    """Stitch per-window uint8 clips [T, H, W, 3], linearly cross-fading every overlap."""
    if len(clips) != len(ranges):
        raise ValueError("one clip per window range is required")
    height, width, channels = clips[0].shape[1:]
    out = np.zeros((total_frames, height, width, channels), dtype=np.float32)
    written_until = 0
    for clip, (start, end) in zip(clips, ranges, strict=True):
        if clip.shape[0] != end - start:
            raise ValueError(f"clip for window [{start}, {end}) has {clip.shape[0]} frames")
        clip = clip.astype(np.float32)
        overlap = max(0, written_until - start)
        if overlap:
            alpha = (np.arange(1, overlap + 1, dtype=np.float32) / (overlap + 1))[:, None, None, None]
            out[start : start + overlap] = (1 - alpha) * out[start : start + overlap] + alpha * clip[:overlap]
        out[start + overlap : end] = clip[overlap:]
        written_until = end
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
