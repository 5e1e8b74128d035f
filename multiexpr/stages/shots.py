"""From one source to candidate clips: the shot split (with the face-count pre-pass in the same decode)
and the length filter, which needs no faces and so runs before anything costly.

The shot split is PySceneDetect's ContentDetector over every frame, then a forced split of shots longer
than ``max_clip_s`` (Panda-70M). Frames on the ``prepass_fps`` grid are also converted at full size and
their faces counted (``multiexpr.prepass``), so the pre-pass costs no decoding of its own.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from exprbench.errors import ExprBenchError
from exprbench.video import resample_indices
from multiexpr import prepass
from multiexpr.decode import scan
from multiexpr.spans import CutDetector, shots_to_spans
from multiexpr.stages.base import Drop, Stage
from multiexpr.tasks import Candidate, SourceTask, clip_id_for


@dataclass
class ShotSplitStage(Stage):
    """One source in, its shots out as ``Candidate`` tasks (the pre-pass counts stay on the source)."""

    name: ClassVar[str] = "shot_split"
    reads: ClassVar[tuple[str, ...]] = ("SourceTask.sha256", "SourceTask.info", "SourceTask.timestamps")
    writes: ClassVar[tuple[str, ...]] = ("SourceTask.prepass_indices", "SourceTask.prepass_counts",
                                         "Candidate.start", "Candidate.end", "Candidate.clip_id")

    def process(self, task: SourceTask) -> list[Candidate] | Drop:
        cfg = self.config
        cuts = CutDetector(task.info.fps, cfg.scene_threshold, cfg.scene_min_len_frames)
        grid = (np.unique(resample_indices(task.timestamps, cfg.prepass_fps)) if cfg.prepass_fps > 0
                else np.zeros(0, np.int64))
        wanted = set(grid.tolist())
        counts: list[int] = []
        try:
            counter = prepass.FaceCounter(cfg.max_faces, cfg.detect_min_face_px) if len(grid) else nullcontext()
            with counter as faces:
                for index, small, full in scan(task.info, cfg.scene_downscale_width, wanted, len(task.timestamps)):
                    cuts.feed(small)
                    if full is not None:
                        counts.append(faces.count(full, task.timestamps[index]))
        except ExprBenchError as exc:
            return Drop("undecodable", str(exc))
        task.prepass_indices, task.prepass_counts = grid, np.asarray(counts, np.int64)
        spans = shots_to_spans(cuts.cuts(), task.timestamps, cfg.max_clip_s)
        return [Candidate(source=task, start=a, end=b, clip_id=clip_id_for(task.sha256, a, b)) for a, b in spans]


@dataclass
class LengthFilter(Stage):
    """At least ``min_frames_25fps`` frames once resampled to ``out_fps``."""

    name: ClassVar[str] = "length"
    reads: ClassVar[tuple[str, ...]] = ("SourceTask.timestamps", "Candidate.start", "Candidate.end")

    def process(self, clip: Candidate) -> Drop | None:
        n = len(clip.out_indices(self.config.out_fps))
        if n < self.config.min_frames_25fps:
            return Drop("too_short", f"{n} frames at {self.config.out_fps:g} fps, need {self.config.min_frames_25fps}")
        return None
