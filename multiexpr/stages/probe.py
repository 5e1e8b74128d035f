"""The first source stage: is the file a video we can read, and what are its bytes and frame times."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from exprbench.errors import ExprBenchError
from exprbench.video import frame_timestamps, probe
from multiexpr.sources import content_sha256
from multiexpr.stages.base import Drop, Stage
from multiexpr.tasks import SourceTask


@dataclass
class ProbeStage(Stage):
    """Hash the bytes and read metadata and packet timestamps; unusable entries and unreadable files are
    dropped here, so no later stage meets a source it cannot decode from the start."""

    name: ClassVar[str] = "probe"
    reads: ClassVar[tuple[str, ...]] = ("SourceTask.source",)
    writes: ClassVar[tuple[str, ...]] = ("SourceTask.sha256", "SourceTask.info", "SourceTask.timestamps")

    def process(self, task: SourceTask) -> Drop | None:
        if task.source.problem:  # discovery's "code: detail" for an entry it could not use
            code, _, detail = task.source.problem.partition(": ")
            return Drop(code, detail)
        try:
            task.sha256 = content_sha256(task.source.path)
            task.info = probe(task.source.path)
            task.timestamps = frame_timestamps(task.source.path)
        except FileNotFoundError:
            return Drop("unreadable", "file not found")
        except (ExprBenchError, OSError) as exc:
            return Drop("unreadable", str(exc))
        if len(task.timestamps) != task.info.n_frames:
            task.timestamps = task.timestamps[:task.info.n_frames]
        if len(task.timestamps) < 2:
            return Drop("unreadable", f"only {len(task.timestamps)} frame(s)")
        return None
