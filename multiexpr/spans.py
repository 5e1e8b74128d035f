"""Shot boundaries and the frame indices of a span at a given rate.

Shots come from PySceneDetect's ``ContentDetector`` fed with frames we decode ourselves, shrunk to a small
width by the decoder (a cut changes the whole picture, so detail does not help and costs time). Shots longer than
``max_clip_s`` are cut into equal pieces (Panda-70M force-cuts long scenes the same way), so one long take
cannot become one huge clip.

All spans are half-open ``[start_frame, end_frame)`` in source frames, with times from the packet
timestamps, so variable-frame-rate sources are cut where the frames really are.
"""

from __future__ import annotations

import math

import numpy as np
from scenedetect import ContentDetector
from scenedetect.common import FrameTimecode


class CutDetector:
    """PySceneDetect's ``ContentDetector`` fed one small BGR frame at a time (``multiexpr.decode.scan``
    shrinks them while decoding); ``cuts()`` gives the frame indices where a new shot starts (excluding 0)."""

    def __init__(self, fps: float, threshold: float, min_len: int) -> None:
        self.fps = fps
        self._detector = ContentDetector(threshold=threshold, min_scene_len=min_len)
        self._found: list[int] = []
        self._count = 0

    def feed(self, bgr: np.ndarray) -> None:
        timecode = FrameTimecode(self._count, fps=self.fps)
        self._found += [tc.frame_num for tc in self._detector.process_frame(timecode, bgr)]
        self._count += 1

    def cuts(self) -> list[int]:
        found = list(self._found)
        if self._count:
            found += [tc.frame_num for tc in self._detector.post_process(FrameTimecode(self._count - 1, fps=self.fps))]
        return sorted({c for c in found if 0 < c < self._count})


def source_end_time(timestamps: np.ndarray) -> float:
    """End of the last frame's interval (its timestamp plus the median frame interval)."""
    if len(timestamps) > 1:
        return float(timestamps[-1] + np.median(np.diff(timestamps)))
    return float(timestamps[-1]) + 1.0 / 25.0 if len(timestamps) else 0.0


def frame_time(timestamps: np.ndarray, frame: int) -> float:
    """Start time of source frame ``frame``; the end of the source for ``frame == len(timestamps)``."""
    return float(timestamps[frame]) if frame < len(timestamps) else source_end_time(timestamps)


def shots_to_spans(cuts: list[int], timestamps: np.ndarray, max_clip_s: float) -> list[tuple[int, int]]:
    """Shots as ``[start, end)`` frame spans, each split into equal pieces no longer than ``max_clip_s``."""
    n = len(timestamps)
    bounds = [0, *cuts, n]
    spans = []
    for start, end in zip(bounds, bounds[1:]):
        t0, t1 = frame_time(timestamps, start), frame_time(timestamps, end)
        pieces = max(1, math.ceil((t1 - t0) / max_clip_s - 1e-9))
        edges = [start] + [int(np.searchsorted(timestamps, t0 + k * (t1 - t0) / pieces - 1e-6))
                           for k in range(1, pieces)] + [end]
        spans += [(a, b) for a, b in zip(edges, edges[1:]) if b > a]
    return spans


def span_indices(timestamps: np.ndarray, start: int, end: int, fps: float) -> np.ndarray:
    """Source frame shown at each output frame of span ``[start, end)`` resampled to ``fps``.

    Output frame k is at t = t_start + k / fps (sample-and-hold, like ``exprbench.video.resample_indices``)
    and the span yields floor(duration * fps) frames.
    """
    t0, t1 = frame_time(timestamps, start), frame_time(timestamps, end)
    count = int(math.floor((t1 - t0) * fps + 1e-6))
    times = t0 + np.arange(count) / fps
    idx = np.searchsorted(timestamps, times + 1e-6, side="right") - 1
    return np.clip(idx, start, end - 1).astype(np.int64)
