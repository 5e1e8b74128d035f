"""The face count, twice: cheaply from the pre-pass, then from the full face analysis.

``FaceStage`` runs MediaPipe's landmarker (landmarks, blendshapes, head pose) and the tracker on frames
sampled at ``analysis_fps``: by far the costliest analysis. ``PrepassFilter`` runs before it and drops the
shots the pre-pass counts (``multiexpr.prepass``) already show to lack faces, so they never pay for it;
``FaceCountFilter`` then keeps clips with ``min_faces`` faces each present through the clip. Both drop
with the same code, ``too_few_faces``; the ``stage`` of a reject says which evidence decided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from exprbench.errors import ExprBenchError
from exprbench.video import read_video
from multiexpr.stages.base import Drop, Stage
from multiexpr.tasks import Candidate


@dataclass
class PrepassFilter(Stage):
    """At least ``min_faces`` faces visible together in ``prepass_min_fraction`` of the span's pre-pass
    frames. A span with no pre-pass frame is kept: the full face count decides."""

    name: ClassVar[str] = "prepass"
    reads: ClassVar[tuple[str, ...]] = ("SourceTask.prepass_indices", "SourceTask.prepass_counts",
                                        "Candidate.start", "Candidate.end")

    def process(self, clip: Candidate) -> Drop | None:
        cfg, task = self.config, clip.source
        inside = task.prepass_counts[(task.prepass_indices >= clip.start) & (task.prepass_indices < clip.end)]
        if not len(inside):
            return None
        need = max(1, math.ceil(cfg.prepass_min_fraction * len(inside)))
        typical = int(np.sort(inside)[::-1][need - 1])  # faces visible together in at least that many frames
        if typical >= cfg.min_faces:
            return None
        return Drop("too_few_faces", f"{typical} face(s) in >= {cfg.prepass_min_fraction:.0%} of the {len(inside)} "
                                     f"frames of the {cfg.prepass_fps:g} fps pre-pass (at most {int(inside.max())} "
                                     f"in one frame), need {cfg.min_faces}")


@dataclass
class FaceStage(Stage):
    """Face landmarks, blendshapes, pose and tracks on frames sampled at ``analysis_fps``."""

    name: ClassVar[str] = "faces"
    reads: ClassVar[tuple[str, ...]] = ("SourceTask.info", "SourceTask.timestamps", "Candidate.start",
                                        "Candidate.end")
    writes: ClassVar[tuple[str, ...]] = ("Candidate.frames", "Candidate.tracks", "Candidate.faces",
                                         "Candidate.face_stats.coverage")

    def setup(self) -> None:
        from exprbench.faces import analyze_frames

        self._analyze = analyze_frames

    def process(self, clip: Candidate) -> Drop | None:
        cfg = self.config
        indices = clip.out_indices(cfg.analysis_fps)
        unique, inverse = np.unique(indices, return_inverse=True)
        try:
            frames = read_video(clip.source.info, unique.tolist())[inverse]
        except ExprBenchError as exc:
            return Drop("undecodable", str(exc))
        clip.frames = frames
        clip.tracks = self._analyze(frames, cfg.analysis_fps, num_faces=cfg.max_faces,
                                    identity_every=cfg.identity_every, min_face_px=cfg.detect_min_face_px)
        coverage = np.asarray(clip.tracks.coverage())
        clip.faces = [i for i in range(len(coverage)) if coverage[i] >= cfg.min_presence]
        for i in clip.faces:
            clip.face_stats[i] = {"coverage": float(coverage[i])}
        return None


@dataclass
class FaceCountFilter(Stage):
    """At least ``min_faces`` faces, each present in ``min_presence`` of the analysed frames."""

    name: ClassVar[str] = "face_count"
    reads: ClassVar[tuple[str, ...]] = ("Candidate.tracks", "Candidate.faces")

    def process(self, clip: Candidate) -> Drop | None:
        cfg = self.config
        if len(clip.faces) < cfg.min_faces:
            seen = len(clip.tracks.track_ids)
            return Drop("too_few_faces", f"{len(clip.faces)} face(s) present in >= {cfg.min_presence:.0%} of frames "
                                         f"({seen} seen at all), need {cfg.min_faces}")
        return None
