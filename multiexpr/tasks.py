"""The two task types that flow through the curation stages (``multiexpr.stages``).

A ``SourceTask`` is one input video on its way through probe and shot split; the shot split turns it into
``Candidate`` clips, which the remaining stages judge and annotate one by one. Tasks are plain data: each
stage declares which of their fields it reads and writes (``Stage.reads``/``Stage.writes``, named
``"SourceTask.info"``, ``"Candidate.tracks"``, ...), so an order of stages can be checked before a build
runs instead of failing on a ``None`` halfway through a corpus.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from exprbench.video import VideoInfo
from multiexpr.sources import Source
from multiexpr.spans import frame_time, span_indices

# what a SourceTask holds before any stage ran
GIVEN = ("SourceTask.source",)


def clip_id_for(source_sha256: str, start: int, end: int) -> str:
    """Deterministic clip id: the source's content hash and the span in source frames, so ids never
    depend on file names, processing order or machine."""
    return hashlib.sha256(f"{source_sha256}:{start}:{end}".encode()).hexdigest()[:20]


@dataclass
class SourceTask:
    """One input video and what the source stages learn about it."""

    source: Source
    sha256: str = ""
    info: VideoInfo | None = None
    timestamps: np.ndarray | None = None
    prepass_indices: np.ndarray | None = None  # source frames of the face-count pre-pass
    prepass_counts: np.ndarray | None = None  # faces found in each of them


@dataclass
class Candidate:
    """A candidate clip: a span of one source, and what the stages learn about it."""

    source: SourceTask
    start: int  # source frames, half-open
    end: int
    clip_id: str = ""
    frames: np.ndarray | None = None  # analysed frames (sampled at analysis_fps), dropped after filtering
    tracks: object = None  # exprbench.faces.FaceTracks
    faces: list[int] = field(default_factory=list)  # counted track columns, left to right
    face_stats: dict[int, dict] = field(default_factory=dict)  # per counted track column
    max_iou: float = math.nan
    out_frames: np.ndarray | None = None  # 25 fps frames, kept only for a captioner
    row: dict | None = None

    @property
    def start_s(self) -> float:
        return frame_time(self.source.timestamps, self.start)

    @property
    def end_s(self) -> float:
        return frame_time(self.source.timestamps, self.end)

    def out_indices(self, fps: float) -> np.ndarray:
        return span_indices(self.source.timestamps, self.start, self.end, fps)
