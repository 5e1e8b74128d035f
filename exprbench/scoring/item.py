"""Scoring one item: its faces analysed once, then every selected metric per face.

Cost model (why it is shaped like this): the generated video is decoded for face analysis and once
more for the frame metrics (both passes stream in chunks); driving and ground-truth face analyses are
cached by content hash (``exprbench.faces``) and ground-truth set features by content hash
(``feature_cache``), so scoring a second method costs only its own videos plus re-reading
ground-truth pixels for the paired metrics.
"""

from __future__ import annotations

import logging
import time

from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.benchmark.results import ResultCheck
from exprbench.errors import ExprBenchError
from exprbench.scoring import resume
from exprbench.scoring.face_metrics import face_row, needs_reference_identity
from exprbench.scoring.frames import score_frames
from exprbench.scoring.item_faces import analyse_item
from exprbench.scoring.options import EvalOptions, ItemOutcome
from exprbench.video import VideoFrames

log = logging.getLogger(__name__)


def score_item(bench: Benchmark, item: Item, check: ResultCheck, options: EvalOptions,
               set_available: tuple[str, ...]) -> ItemOutcome:
    """Score one item: one row per face with every selected metric of its mode, plus set features."""
    outcome = ItemOutcome(item_id=item.id)
    n = min(item.frames, check.info.n_frames)
    start = time.perf_counter()
    gen_frames = VideoFrames(check.info, list(range(n)))  # decoded lazily, chunk by chunk, per pass
    outcome.timings["decode"] = time.perf_counter() - start

    start = time.perf_counter()
    faces = analyse_item(bench, item, gen_frames, ref_identity=needs_reference_identity(options, item.mode))
    outcome.timings["faces"] = time.perf_counter() - start
    outcome.decode_errors = gen_frames.report.errors  # the first pass decodes it alone (exprbench.decode_log)

    start = time.perf_counter()
    rows = [face_row(item, faces, j, n, options) for j in range(item.n_faces)]
    if item.mode == "self":
        score_frames(bench, item, faces, rows, gen_frames, options, set_available, outcome)
    outcome.timings["metrics"] = time.perf_counter() - start
    outcome.rows = rows
    return outcome


def score_and_keep(job: tuple) -> ItemOutcome:
    """Worker entry point: score one item and keep its outcome on disk at once (``resume``), so a
    killed run resumes from here. With ``keep_going`` a failure becomes the item's error instead of
    stopping the run; a bug or a library failure on one item must not lose the others."""
    bench, item, check, options, set_available, partial, key = job
    try:
        outcome = score_item(bench, item, check, options, set_available)
    except ExprBenchError as exc:
        if not options.keep_going:
            raise
        return ItemOutcome(item_id=item.id, error=str(exc))
    except Exception as exc:
        if not options.keep_going:
            raise
        log.exception("%s: scoring failed", item.id)
        return ItemOutcome(item_id=item.id, error=f"{type(exc).__name__}: {exc}")
    resume.save(partial, key, outcome)
    return outcome
