"""One source through every stage, committed to the output's work area with a completion marker.

This is the unit of work both engines schedule. Per source it writes, in order (each file all or nothing,
through ``exprbench.files``):

1. ``clips/<clip_id>.mp4`` for each accepted clip;
2. ``.work/parts/<source_id>.clips.parquet`` and ``.rejects.parquet``;
3. ``.work/done/<source_id>.json``: per-stage counts and timings (paths from ``multiexpr.layout``). Written last, it is the completion
   marker (video2dataset's ``_stats.json``, datatrove's ``completions/``): a source without it is redone
   from scratch, and because every name is deterministic a redo overwrites rather than duplicates.

Unexpected failures inside a stage become a reject (``stage_error``) so one bad file never stops a
million-video build; they are logged with the source name. A reject's ``detail`` never holds an absolute
local path (``local_detail``): the dataset is meant to be shared, and the source is named relative to the
input root. The marker also records the source's ``content_sha256``, which resume checks (``build``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from exprbench.files import atomic_write
from multiexpr import schema
from multiexpr.config import BuildConfig
from multiexpr.layout import Layout
from multiexpr.sources import Source
from multiexpr.stages import (AnnotateStage, Candidate, CaptionStage, CutStage, ExpressivenessFilter, FaceCountFilter,
                              FaceSizeFilter, FaceStage, LengthFilter, OverlapFilter, ProbeStage, SharpnessFilter,
                              ShotSplitStage, SourceTask, Stage)

log = logging.getLogger(__name__)

_ABSOLUTE = re.compile(r"(?<![\w.~])/(?:[^\s/:'\",()]+/)+([^\s/:'\",()]+)")


def local_detail(text: str, source: Source, out: Path) -> str:
    """``text`` with the source's absolute path replaced by its name, the output folder's by nothing, and
    any other absolute path shortened to its file name."""
    # realpath, not Path.resolve: a symlink-loop entry (an ``unresolvable`` reject) must not raise here
    for path in sorted({source.path, os.path.realpath(source.path)}, key=len, reverse=True):
        text = text.replace(path, source.name)
    for folder in sorted({str(out), os.path.realpath(out)}, key=len, reverse=True):
        if os.path.isabs(folder):
            text = text.replace(folder + os.sep, "")
    return _ABSOLUTE.sub(r"\1", text)


@dataclass
class StageCounter:
    """Per-stage counts (``in``, ``out``, drops by reason code) and seconds spent."""

    counts: dict = field(default_factory=lambda: defaultdict(lambda: {"in": 0, "out": 0, "dropped": {},
                                                                      "seconds": 0.0}))

    def record(self, stage: str, seconds: float, reason: str | None) -> None:
        entry = self.counts[stage]
        entry["in"] += 1
        entry["seconds"] += seconds
        if reason is None:
            entry["out"] += 1
        else:
            code = reason.split(":", 1)[0]
            entry["dropped"][code] = entry["dropped"].get(code, 0) + 1

    def as_dict(self) -> dict:
        return {k: dict(v) for k, v in self.counts.items()}


class Pipeline:
    """The stages in order, set up once per worker process."""

    def __init__(self, config: BuildConfig, out: Path) -> None:
        self.config, self.out = config, Path(out)
        self.probe = ProbeStage(config)
        self.split = ShotSplitStage(config)
        self.clip_stages: list[Stage] = [
            LengthFilter(config), FaceStage(config), FaceCountFilter(config), FaceSizeFilter(config),
            OverlapFilter(config), SharpnessFilter(config), ExpressivenessFilter(config),
            CutStage(config, layout=Layout(self.out), keep_frames=bool(config.captioner)), AnnotateStage(config),
        ]
        if config.captioner:
            self.clip_stages.append(CaptionStage(config))
        for stage in (self.probe, self.split, *self.clip_stages):
            stage.setup()

    def _run_stage(self, stage: Stage, task, counter: StageCounter):  # noqa: ANN001, ANN202
        start = time.perf_counter()
        try:
            result = stage.process(task)
        except Exception as exc:  # noqa: BLE001 - one bad input must not stop the build; logged and kept
            log.warning("%s: stage %s failed: %s: %s", task.source.name if isinstance(task, SourceTask)
                        else task.source.source.name, stage.name, type(exc).__name__, exc)
            result = f"stage_error: {type(exc).__name__}: {exc}"
        if isinstance(result, str):
            source = task.source if isinstance(task, SourceTask) else task.source.source
            result = local_detail(result, source, self.out)
        reason = result if isinstance(result, str) else None
        counter.record(stage.name, time.perf_counter() - start, reason)
        return result

    def run(self, source: Source) -> dict:
        """Process one source and commit it; returns its marker (stats)."""
        counter = StageCounter()
        rows, rejects = [], []
        task = SourceTask(source=source)
        started = time.perf_counter()

        def source_reject(stage: str, reason: str) -> None:
            rejects.append({"candidate_id": source.source_id, "source": source.name, "source_start_frame": None,
                            "source_end_frame": None, "start_s": None, "end_s": None, "stage": stage,
                            "reason": reason.split(":", 1)[0], "detail": reason})

        reason = self._run_stage(self.probe, task, counter)
        candidates: list[Candidate] = []
        if reason is not None:
            source_reject(self.probe.name, reason)
        else:
            result = self._run_stage(self.split, task, counter)
            if isinstance(result, str):
                source_reject(self.split.name, result)
            else:
                candidates = result
        for clip in candidates:
            for stage in self.clip_stages:
                reason = self._run_stage(stage, clip, counter)
                if reason is not None:
                    rejects.append({"candidate_id": clip.clip_id, "source": source.name,
                                    "source_start_frame": clip.start, "source_end_frame": clip.end,
                                    "start_s": clip.start_s, "end_s": clip.end_s, "stage": stage.name,
                                    "reason": reason.split(":", 1)[0], "detail": reason})
                    Layout(self.out).clip(clip.clip_id).unlink(missing_ok=True)
                    break
            else:
                rows.append(clip.row)
            clip.frames = clip.out_frames = clip.tracks = None
        layout = Layout(self.out)
        schema.write_parquet(schema.table(rows, schema.CLIPS), layout.part(source.source_id, "clips"))
        schema.write_parquet(schema.table(rejects, schema.REJECTS), layout.part(source.source_id, "rejects"))
        n_frames = len(task.timestamps) if task.timestamps is not None else 0
        marker = {"source": source.name, "source_id": source.source_id, "content_sha256": task.sha256,
                  "clips": sorted(row["video"] for row in rows), "source_frames": n_frames,
                  "source_seconds": float(task.info.duration) if task.info else 0.0,
                  "candidates": len(candidates), "accepted": len(rows), "stages": counter.as_dict(),
                  "seconds": time.perf_counter() - started}
        atomic_write(layout.marker(source.source_id), json.dumps(marker, indent=1))
        return marker


_PIPELINES: dict[tuple[str, str], Pipeline] = {}


def process_source(source: Source, config: BuildConfig, out: str) -> dict:
    """Worker entry point (local processes and Ray tasks): one pipeline per process, reused."""
    key = (config.hash(), str(out))
    if key not in _PIPELINES:
        _PIPELINES[key] = Pipeline(config, Path(out))
    return _PIPELINES[key].run(source)
