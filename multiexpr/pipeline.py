"""One source through every stage, committed to the output's work area with a completion marker.

This is the unit of work both engines schedule. Per source it writes, in order (each file all or nothing,
through ``exprbench.files``; every path from ``multiexpr.layout``):

1. the clip of each accepted candidate (``Layout.clip``);
2. the source's clips and rejects parts (``Layout.part``);
3. its completion marker (``Layout.marker``): per-stage counts and timings. Written last, it is the
   completion marker (video2dataset's ``_stats.json``, datatrove's ``completions/``): a source without it
   is redone from scratch, and because every name is deterministic a redo overwrites rather than
   duplicates.

Tasks go through the stages depth first: each candidate the shot split yields runs through every
remaining stage before the next one starts, so only one candidate's frames are ever held in memory.
Drops are counted per stage and per ``Drop.code`` (datatrove keeps its filter statistics the same way).

Unexpected failures inside a stage become a reject (``stage_error``) so one bad file never stops a
million-video build; they are logged with the source name. A reject's ``detail`` never holds an absolute
local path (``local_detail``): the dataset is meant to be shared, and the source is named relative to the
input root. The marker also records the source's ``content_sha256``, which resume checks (``build``).
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from multiexpr import schema
from multiexpr.config import BuildConfig
from multiexpr.layout import Layout
from multiexpr.marker import write_marker
from multiexpr.sources import Source
from multiexpr.stages import default_stages
from multiexpr.stages.base import Drop, Stage, check_order
from multiexpr.tasks import GIVEN, Candidate, SourceTask

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
    """Per-stage counts (``in``, ``out``, drops by reason code) and seconds spent, in the order stages ran."""

    counts: dict[str, dict] = field(default_factory=dict)

    def record(self, stage: str, seconds: float, drop: Drop | None) -> None:
        entry = self.counts.setdefault(stage, {"in": 0, "out": 0, "dropped": {}, "seconds": 0.0})
        entry["in"] += 1
        entry["seconds"] += seconds
        if drop is None:
            entry["out"] += 1
        else:
            entry["dropped"][drop.code] = entry["dropped"].get(drop.code, 0) + 1


def reject_row(task: SourceTask | Candidate, stage: str, drop: Drop) -> dict:
    """The ``rejects.parquet`` row of a dropped task (a source-level reject has no span)."""
    if isinstance(task, SourceTask):
        source = task.source
        ident, span = source.source_id, (None, None, None, None)
    else:
        source = task.source.source
        ident, span = task.clip_id, (task.start, task.end, task.start_s, task.end_s)
    return {"candidate_id": ident, "source": source.name, "source_start_frame": span[0], "source_end_frame": span[1],
            "start_s": span[2], "end_s": span[3], "stage": stage, "reason": drop.code, "detail": drop.message}


class Pipeline:
    """The stages in order (``default_stages``, checked by ``check_order``), set up once per worker."""

    def __init__(self, config: BuildConfig, out: Path) -> None:
        self.config, self.out, self.layout = config, Path(out), Layout(Path(out))
        self.stages = default_stages(config, self.out)
        check_order(self.stages, GIVEN)
        for stage in self.stages:
            stage.setup()

    def _run_stage(self, stage: Stage, task: SourceTask | Candidate, source: Source,
                   counter: StageCounter) -> Drop | list[Candidate] | None:
        start = time.perf_counter()
        try:
            result = stage.process(task)
        except Exception as exc:  # noqa: BLE001 - one bad input must not stop the build; logged and kept
            log.warning("%s: stage %s failed: %s: %s", source.name, stage.name, type(exc).__name__, exc)
            result = Drop("stage_error", f"{type(exc).__name__}: {exc}")
        if isinstance(result, Drop):
            result = replace(result, detail=local_detail(result.detail, source, self.out))
        counter.record(stage.name, time.perf_counter() - start, result if isinstance(result, Drop) else None)
        return result

    def run(self, source: Source) -> dict:
        """Process one source and commit it; returns its marker (stats)."""
        counter = StageCounter()
        rows: list[dict] = []
        rejects: list[dict] = []
        candidates = 0
        started = time.perf_counter()

        def walk(task: SourceTask | Candidate, first: int) -> None:
            """``task`` through ``self.stages[first:]``; a split hands each new task the stages after it."""
            nonlocal candidates
            for index in range(first, len(self.stages)):
                stage = self.stages[index]
                result = self._run_stage(stage, task, source, counter)
                if isinstance(result, Drop):
                    rejects.append(reject_row(task, stage.name, result))
                    if isinstance(task, Candidate):  # a clip cut before a later stage dropped it
                        self.layout.clip(task.clip_id).unlink(missing_ok=True)
                    return
                if isinstance(result, list):
                    candidates += len(result)
                    for clip in result:
                        walk(clip, index + 1)
                        clip.frames = clip.out_frames = clip.tracks = None
                    return
            rows.append(task.row)

        task = SourceTask(source=source)
        walk(task, 0)
        schema.write_parquet(schema.table(rows, schema.CLIPS), self.layout.part(source.source_id, "clips"))
        schema.write_parquet(schema.table(rejects, schema.REJECTS), self.layout.part(source.source_id, "rejects"))
        n_frames = len(task.timestamps) if task.timestamps is not None else 0
        marker = {"source": source.name, "source_id": source.source_id, "content_sha256": task.sha256,
                  "clips": sorted(row["video"] for row in rows), "source_frames": n_frames,
                  "source_seconds": float(task.info.duration) if task.info else 0.0,
                  "candidates": candidates, "accepted": len(rows), "stages": counter.counts,
                  "seconds": time.perf_counter() - started}
        write_marker(self.layout.marker(source.source_id), marker)
        return marker


_PIPELINES: dict[tuple[str, str], Pipeline] = {}


def process_source(source: Source, config: BuildConfig, out: str) -> dict:
    """Worker entry point (local processes and Ray tasks): one pipeline per process, reused."""
    key = (config.hash(), str(out))
    if key not in _PIPELINES:
        _PIPELINES[key] = Pipeline(config, Path(out))
    return _PIPELINES[key].run(source)
