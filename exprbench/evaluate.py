"""``exprbench eval``: score one method's results on a benchmark, per item and per face.

This module runs a whole evaluation: it checks the results, resumes from items already scored, scores
the rest (in worker processes if asked), pools the set metrics, and writes per_item.csv, summary.json,
config.json (and run.json with the method's version). How one item is scored, and every other part,
lives in ``exprbench.scoring`` (one module per job; see its docstring). Metrics are driven from the
registry (``exprbench.metrics``): this module names none of them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from exprbench.anchors import (
    ANCHOR_METHOD,
    anchors_name,
    attach,
    benchmark_sha256,
    load_anchors,
)
from exprbench.benchmark.manifest import Benchmark, load_benchmark
from exprbench.benchmark.results import check_result, validate_results
from exprbench.errors import InputError
from exprbench.metrics.base import resolve_device
from exprbench.scoring import resume
from exprbench.scoring.instances import set_availability
from exprbench.scoring.item import score_and_keep, score_item
from exprbench.scoring.options import EvalOptions, ItemOutcome
from exprbench.scoring.outputs import write_json, write_tables
from exprbench.scoring.provenance import method_version, run_config
from exprbench.scoring.schema import RUN_FILE, read_run_record
from exprbench.scoring.summary import set_scores, summarise
from exprbench.workers import stop_workers, worker_pool

__all__ = ["EvalOptions", "ItemOutcome", "evaluate", "score_item", "write_tables"]

log = logging.getLogger(__name__)

_ROW_ID = ["item_id", "split", "mode", "face", "n_faces", "frames", "matched", "coverage"]


def evaluate(bench_root: str | Path, results: str | Path, method: str, out: str | Path,
             options: EvalOptions | None = None, progress: bool = False, warn_unranked: bool = True) -> dict:
    """Score ``results/<method>/<item>.mp4`` on the benchmark; write per_item.csv, summary.json, config.json.

    Returns the summary. Raises a one-line error if results are missing or malformed (unless
    ``keep_going``), or if a metric named in ``require`` is unavailable. ``warn_unranked=False``: no
    warning that a benchmark without anchors gives unranked runs (for scores that are never ranked,
    e.g. the rungs of ``exprbench validate``).
    """
    options = options or EvalOptions()
    resolve_device(options.device)  # a CUDA request without CUDA fails here, before any work
    bench = load_benchmark(bench_root)
    results, out = Path(results), Path(out)
    run_record = read_run_record(out)  # a user's run_by is kept; a damaged run.json is refused before any work
    items = bench.select(options.split, options.items)
    if not items:
        raise InputError(bench.root, "has no items for that selection")
    if options.keep_going:
        checks = [check_result(results, method, item, options.allow_short, bench) for item in items]
    else:
        checks = validate_results(bench, results, method, items, options.allow_short)
    set_available, unavailable = set_availability(options)
    errors = {c.item.id: c.problem for c in checks if not c.ok}
    partial = resume.partial_dir(out)
    keys = {c.item.id: resume.item_key(bench, c.item, c, options, set_available) for c in checks if c.ok}
    done = {i: o for i, k in keys.items() if (o := resume.load(partial, k)) is not None}
    jobs = [(bench, c.item, c, options, set_available, partial, keys[c.item.id])
            for c in checks if c.ok and c.item.id not in done]
    if done:
        log.info("resuming: %d of %d items already scored in %s", len(done), len(keys), partial)

    scored = _run_jobs(jobs, options, method, len(keys), len(done), {c.item.id: c.item.frames for c in checks},
                       progress)
    by_id = {**done, **{o.item_id: o for o in scored}}
    outcomes = [by_id[c.item.id] for c in checks if c.item.id in by_id]  # item order, however they were scored

    errors.update({o.item_id: o.error for o in outcomes if o.error})
    rows = [r for o in outcomes for r in o.rows]
    frame = pd.DataFrame(rows).sort_values(["split", "mode", "item_id", "face"]) if rows else pd.DataFrame(
        columns=_ROW_ID)
    summary = summarise(frame, set_scores(set_available, items, outcomes, options), unavailable, errors,
                        Counter((item.split, item.mode) for item in items),
                        Counter((item.split, item.mode) for item in bench.items))
    summary.update({"method": method, "benchmark": bench.name, "benchmark_sha256": benchmark_sha256(bench),
                    "timings": {k: float(sum(o.timings.get(k, 0.0) for o in outcomes))
                                for k in ("decode", "faces", "metrics")}})
    damaged = {o.item_id: o.decode_errors for o in outcomes if o.decode_errors}
    summary["decode_errors"] = {"total": int(sum(damaged.values())), "items": damaged}
    if damaged:
        log.warning("%d result video(s) have decoder errors (damaged files, concealed by the decoder; their scores "
                    "are unreliable): %s", len(damaged), ", ".join(f"{k} ({v})" for k, v in damaged.items()))
    frame = attach(frame, summary, _benchmark_anchors(bench, warn=warn_unranked and method != ANCHOR_METHOD))
    out.mkdir(parents=True, exist_ok=True)
    write_tables(out, frame, summary)
    write_json(out / "config.json", run_config(bench, results, method, options))
    version = method_version(results, method, items)
    if version is not None:  # for the leaderboard; a run_by the user wrote into run.json is kept
        write_json(out / RUN_FILE, {**run_record, "method_version": version})
    resume.finish(out)
    return summary


def _run_jobs(jobs: list[tuple], options: EvalOptions, method: str, total: int, done: int,
              frames_of: dict[str, int], progress: bool) -> list[ItemOutcome]:
    """Score the jobs (in ``options.workers`` processes when there are several), with a progress bar of
    items and frames per second; on Ctrl-C or a failed item the workers stop at once, and the items
    already finished stay in ``OUT/.partial`` for the rerun."""
    scored: list[ItemOutcome] = []
    bar = tqdm(total=total, initial=done, desc=f"eval {method}", unit="item", disable=not progress)
    started, frames_done = time.perf_counter(), 0

    def advance(outcome: ItemOutcome) -> None:
        nonlocal frames_done
        scored.append(outcome)
        frames_done += frames_of.get(outcome.item_id, 0)
        bar.set_postfix_str(f"{frames_done / max(time.perf_counter() - started, 1e-9):.1f} frames/s", refresh=False)
        bar.update()

    if options.workers > 1 and len(jobs) > 1:
        pool = worker_pool(options.workers)
        try:
            for outcome in pool.map(score_and_keep, jobs):
                advance(outcome)
        except BaseException:
            stop_workers(pool)
            raise
        pool.shutdown()
    else:
        for job in jobs:
            advance(score_and_keep(job))
    bar.close()
    return scored


def _benchmark_anchors(bench: Benchmark, warn: bool) -> dict | None:
    """The benchmark's anchors; without them (or with stale ones) the run is scored but cannot be ranked.
    ``warn``: say so when there are none (not for the static eval the anchors are made from)."""
    try:
        anchors = load_anchors(bench)
    except InputError as exc:
        log.warning("%s; this run will be listed unranked", exc)
        return None
    if anchors is None and warn:
        log.warning("%s has no %s: the leaderboard will list this run unranked (run 'exprbench anchors --bench "
                    "%s' once)", bench.root, anchors_name(), bench.root)
    return anchors
