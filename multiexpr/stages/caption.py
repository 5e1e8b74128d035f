"""Optional captioning through the pluggable ``Captioner`` interface (``multiexpr.captioning``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from multiexpr.captioning import Captioner, load_captioner
from multiexpr.stages.base import Drop, Stage
from multiexpr.tasks import Candidate


@dataclass
class CaptionStage(Stage):
    """Runs the configured ``Captioner`` on the clip's 25 fps frames; a clip without a caption is dropped,
    so a captioned dataset never mixes captioned and uncaptioned rows."""

    name: ClassVar[str] = "caption"
    reads: ClassVar[tuple[str, ...]] = ("Candidate.out_frames", "Candidate.row")
    writes: ClassVar[tuple[str, ...]] = ("Candidate.row",)
    captioner: Captioner | None = None

    def setup(self) -> None:
        self.captioner = load_captioner(self.config.captioner)

    def process(self, clip: Candidate) -> Drop | None:
        text = self.captioner.caption(clip.out_frames, clip.row)
        clip.out_frames = None
        if not isinstance(text, str) or not text.strip():
            return Drop("caption_failed", "the captioner returned no text")
        clip.row["caption"] = text.strip()
        clip.row["captioner"] = self.captioner.name
        return None
