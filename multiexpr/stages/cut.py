"""Re-encode an accepted span as the dataset's clip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from exprbench.errors import ExprBenchError
from exprbench.video import VideoWriter, iter_frames
from multiexpr.layout import Layout
from multiexpr.stages.base import Drop, Stage
from multiexpr.tasks import Candidate


@dataclass
class CutStage(Stage):
    """Re-encode the span at ``out_fps`` as H.264 to the layout's clip path.

    The writer encodes to a temp name unique to the call (``exprbench.files.atomic_path``) and renames it
    into place: two sources with identical bytes give the same clip id, and two workers encoding them at
    once must not write into one file. Consolidation removes leftovers of killed runs. ``keep_frames``
    keeps the encoded frames for a captioner, which would otherwise decode the clip again.
    """

    layout: Layout
    keep_frames: bool = False
    name: ClassVar[str] = "cut"
    reads: ClassVar[tuple[str, ...]] = ("SourceTask.info", "SourceTask.timestamps", "Candidate.start",
                                        "Candidate.end", "Candidate.clip_id")
    writes: ClassVar[tuple[str, ...]] = ("Candidate.out_frames",)

    def process(self, clip: Candidate) -> Drop | None:
        clip.frames = None  # analysed frames are no longer needed; free them before decoding the clip
        indices = clip.out_indices(self.config.out_fps)
        kept = []
        try:
            with VideoWriter(self.layout.clip(clip.clip_id), self.config.out_fps, crf=self.config.out_crf,
                             preset=self.config.out_preset) as writer:
                for chunk in iter_frames(clip.source.info, indices.tolist()):
                    writer.write(chunk)
                    if self.keep_frames:
                        kept.append(chunk)
        except ExprBenchError as exc:
            return Drop("undecodable", str(exc))
        if self.keep_frames:
            clip.out_frames = np.concatenate(kept)
        return None
