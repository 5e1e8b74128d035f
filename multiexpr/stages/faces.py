"""Face analysis and the face-count filter.

``FaceStage`` runs MediaPipe's landmarker (landmarks, blendshapes, head pose) and the tracker on frames
sampled at ``analysis_fps``: by far the costliest analysis, so every check that needs no faces runs
before it. ``FaceCountFilter`` keeps clips with ``min_faces`` faces each present through the clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from exprbench.errors import ExprBenchError
from exprbench.video import read_video
from multiexpr import prepass
from multiexpr.stages.base import Drop, Stage
from multiexpr.tasks import Candidate


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
        task = clip.source
        if task.prepass_indices is not None and cfg.prepass_fps > 0:
            reason = prepass.too_few_faces(task.prepass_indices, task.prepass_counts, clip.start, clip.end,
                                           cfg.min_faces, cfg.prepass_min_fraction, cfg.prepass_fps)
            if reason is not None:
                clip.prepass_drop = Drop("too_few_faces", reason.partition(": ")[2])
                return None  # the face-count filter reports it; the full analysis is skipped
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
        if clip.prepass_drop is not None:
            return clip.prepass_drop
        if len(clip.faces) < cfg.min_faces:
            seen = len(clip.tracks.track_ids)
            return Drop("too_few_faces", f"{len(clip.faces)} face(s) present in >= {cfg.min_presence:.0%} of frames "
                                         f"({seen} seen at all), need {cfg.min_faces}")
        return None
