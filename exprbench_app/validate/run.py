"""``exprbench validate``: build the ladders, score every rung with ``evaluate``, and judge each metric.

Layout of OUT: ``results/<rung>/<item>.mp4`` (each rung an ordinary results folder, ``rung.json`` saying
how it was made), ``eval/<rung>/`` (``evaluate``'s per_item.csv and summary.json), and the verdict:
``validation.csv``, ``validation.md``, ``validation.png``. A rerun with the same settings reuses every
rung that is built and scored; a rung built with other settings (items, frames) is rebuilt.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from exprbench import __version__
from exprbench.benchmark.manifest import Benchmark, Item, load_benchmark
from exprbench.errors import InputError
from exprbench.files import atomic_write
from exprbench.protocol import PROTOCOL
from exprbench_app.validate import ladders as lad
from exprbench_app.validate.meta import (
    LadderScore,
    metric_columns,
    metric_name,
    score_ladder,
    unit_table,
)

log = logging.getLogger(__name__)

# dlib cosines between different people measured on the mini benchmark's media (issue 11); the band's top
# is the protocol's csim ``worst``, the value the ranking treats as "another person".
DIFFERENT_PERSON_LOW = 0.81

# --sample: a reduced set that runs in about ten minutes on 2 cores (single and multi, self and cross)
SAMPLE_FRAMES = 25
SAMPLE_ITEMS = ("single-self-pexels_00s", "multi-self-pair_woman_man", "single-cross-astronaut",
                "multi-cross-duo_astronaut_photo")


@dataclass
class IdentityCheck:
    """The identity ladder's verdict: the wrong person's CSIM against the different-person band."""

    wrong_person: float
    right_person: float
    band: tuple[float, float]
    per_unit: dict[str, float] = field(default_factory=dict)

    @property
    def in_band(self) -> bool:
        """The mean at or below the band's top: the metric calls the wrong person a different person."""
        return bool(np.isfinite(self.wrong_person) and self.wrong_person <= self.band[1])

    @property
    def faces_in_band(self) -> tuple[int, int, int]:
        """(faces at or below the band's top, faces measured, faces without a value)."""
        values = np.array(list(self.per_unit.values()), dtype=np.float64)
        finite = values[np.isfinite(values)]
        return int((finite <= self.band[1]).sum()), int(finite.size), int(values.size - finite.size)


@dataclass
class ValidationReport:
    """Every ladder score, the identity check, and what the run took."""

    scores: list[LadderScore]
    identity: IdentityCheck | None
    bench: str
    items: list[str]
    frames: int | None
    seconds: dict[str, float]  # total: this run; build, eval: summed over the rungs when they were made; reused
    unavailable: dict[str, str] = field(default_factory=dict)
    rung_methods: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # expected metrics eval wrote no value for

    @property
    def failures(self) -> list[LadderScore]:
        return [s for s in self.scores if not s.passed]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([s.row() for s in self.scores])


@dataclass
class RungJob:
    """One distinct rung: the items of every ladder (mode) that uses it, and the metrics they check."""

    rung: lad.Rung
    items: list[Item]
    metrics: tuple[str, ...]


def _rung_plan(ladders: list[lad.Ladder], items: list[Item], bench: Benchmark) -> dict[str, RungJob]:
    """Each distinct rung once. Eval computes only the metrics its ladders check (LPIPS on every time
    rung would double the run): a metric the registry knows and a ladder lists is always computed."""
    from exprbench.metrics import all_metrics

    registered = {m.name for m in all_metrics()}
    plan: dict[str, RungJob] = {}
    for ladder in ladders:
        for rung in ladder.rungs:
            wanted = [i for i in lad.rung_items(rung, items, bench) if i.mode == ladder.mode]
            job = plan.setdefault(rung.method, RungJob(rung, [], ()))
            job.items += [i for i in wanted if i not in job.items]
            job.metrics = tuple(sorted(set(job.metrics) | (set(ladder.metrics) & registered)))
    for job in plan.values():
        job.items.sort(key=items.index)
    return {m: job for m, job in plan.items() if job.items}


def _scored(eval_dir: Path, record: dict) -> bool:
    marker = eval_dir / "validate.json"
    if not (eval_dir / "summary.json").is_file() or not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text()) == record
    except json.JSONDecodeError:
        return False


def _evaluate_rung(bench: Benchmark, out: Path, job: RungJob, frames: int | None, workers: int, rebuilt: bool,
                   progress: bool) -> tuple[Path, bool]:
    """The rung's eval folder, and whether it was scored now (False: a finished eval was reused)."""
    from exprbench.evaluate import EvalOptions, evaluate

    rung, items = job.rung, job.items
    eval_dir = out / "eval" / rung.method
    record = {**json.loads(lad.rung_record_path(out / "results", rung).read_text()), "metrics": list(job.metrics),
              "exprbench": __version__, "protocol": PROTOCOL.version}  # a changed eval scores it again
    if not rebuilt and _scored(eval_dir, record):
        log.info("validate: %s already scored, reused", rung.method)
        return eval_dir, False
    if eval_dir.exists():
        shutil.rmtree(eval_dir)
    options = EvalOptions(items=[i.id for i in items], allow_short=frames is not None, workers=workers,
                          metrics=job.metrics)
    evaluate(bench.root, out / "results", rung.method, eval_dir, options, progress=progress, warn_unranked=False)
    atomic_write(eval_dir / "validate.json", json.dumps(record, indent=1) + "\n")
    return eval_dir, True


def _set_metric_table(summaries: list[dict], key: str, mode: str) -> np.ndarray:
    """(rungs, splits) values of a set metric (FID, FVD) from each rung's summary.json."""
    splits = sorted({s for summary in summaries for s in summary.get("splits", {})})
    table = np.full((len(summaries), len(splits)), np.nan)
    for r, summary in enumerate(summaries):
        for c, split in enumerate(splits):
            entry = summary.get("splits", {}).get(split, {}).get(mode, {}).get("metrics", {}).get(key)
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, (int, float)):
                table[r, c] = float(value)
    return table


def _summary_keys(summary: dict, mode: str) -> set[str]:
    return {k for blocks in summary.get("splits", {}).values() for k in blocks.get(mode, {}).get("metrics", {})}


def judge(ladders: list[lad.Ladder], eval_dirs: dict[str, Path]) -> tuple[list[LadderScore], list[str]]:
    """Score every expected metric on every ladder from the rungs' eval folders.

    Metric columns are read generically from per_item.csv (``<name>@<version>``) and their directions
    from the metric registry, so a metric eval starts writing is validated without code changes.
    Returns the scores and, so that nothing is dropped silently, the expected metrics that eval wrote no
    value for ("ladder (mode): name").
    """
    from exprbench.metrics import all_metrics, get_metric

    frames = {m: pd.read_csv(d / "per_item.csv") for m, d in eval_dirs.items()}
    summaries = {m: json.loads((d / "summary.json").read_text()) for m, d in eval_dirs.items()}
    scores, missing = [], []
    for ladder in ladders:
        rungs = [r for r in ladder.rungs if r.method in frames]
        if len(rungs) < 2:
            continue
        per_rung = [frames[r.method] for r in rungs]
        keys = sorted({k for f in per_rung for k in metric_columns(f)}
                      | {k for r in rungs for k in _summary_keys(summaries[r.method], ladder.mode)})
        measured = set()
        for key in keys:
            name = metric_name(key)
            if name not in ladder.metrics:
                continue
            try:
                spec = get_metric(key)
            except KeyError:  # a column of a metric (or version) this install does not know: no direction
                log.warning("validate: %s is not a registered metric key; skipped", key)
                continue
            if ladder.mode not in spec.modes:
                continue
            if spec.kind == "set":
                table = _set_metric_table([summaries[r.method] for r in rungs], key, ladder.mode)
            else:
                table = unit_table(per_rung, key, ladder.mode)
            if table.size == 0 or np.all(np.isnan(table)):
                continue
            measured.add(name)
            scores.append(score_ladder(key, ladder.name, ladder.mode, spec.direction,
                                       [r.label for r in rungs], table))
        missing += [f"{ladder.name} ({ladder.mode}): {m.key}" for m in all_metrics()
                    if m.name in ladder.metrics and ladder.mode in m.modes and m.name not in measured]
    return scores, missing


def _identity(eval_dirs: dict[str, Path]) -> IdentityCheck | None:
    if "driving" not in eval_dirs:
        return None
    from exprbench.metrics import get_metric

    key = get_metric("csim").key
    wrong = pd.read_csv(eval_dirs["driving"] / "per_item.csv")
    wrong = wrong[wrong["mode"] == "cross"]
    if key not in wrong:
        return None
    right = pd.read_csv(eval_dirs["warp-1"] / "per_item.csv") if "warp-1" in eval_dirs else pd.DataFrame()
    right = right[right["mode"] == "cross"] if len(right) else right
    per_unit = {f"{i}#{f}": float(v) for i, f, v in zip(wrong["item_id"], wrong["face"], wrong[key], strict=True)}
    return IdentityCheck(
        wrong_person=float(np.nanmean(wrong[key])) if wrong[key].notna().any() else math.nan,
        right_person=float(np.nanmean(right[key])) if key in right and right[key].notna().any() else math.nan,
        band=(DIFFERENT_PERSON_LOW, PROTOCOL.metric("csim").worst), per_unit=per_unit)


def validate(bench_root: str | Path, out: str | Path, *, items: list[str] | None = None,
             frames: int | None = None, ladders: list[str] | None = None, workers: int = 1,
             progress: bool = False) -> ValidationReport:
    """Build the ladders from ``bench_root``'s items, score each rung with ``evaluate``, write the report.

    ``frames`` cuts every rung video to its first frames (scored with ``allow_short``); ``items`` and
    ``ladders`` select a subset. Returns the report; ``OUT/validation.{csv,md,png}`` are written.
    """
    from exprbench_app.validate.report import write_report

    start = time.perf_counter()
    bench = load_benchmark(bench_root)
    out = Path(out)
    chosen = bench.select(None, items)
    if frames is not None and frames < 2:
        raise InputError(None, f"--frames must be at least 2, got {frames}")
    known = lad.ladder_names()
    if ladders:
        unknown = sorted(set(ladders) - set(known))
        if unknown:
            raise InputError(None, f"unknown ladder(s) {', '.join(unknown)}", f"choose from {', '.join(known)}")
    selected = [ld for ld in lad.LADDERS if not ladders or ld.name in ladders]
    selected = [ld for ld in selected if any(i.mode == ld.mode for i in chosen)]
    if not selected:
        raise InputError(bench.root, "no ladder applies to the selected items (self items for pixel and time "
                                     "ladders, cross items for identity)")
    plan = lad.BuildPlan(bench=bench, results=out / "results", work=out / "work", frames=frames)
    rungs = _rung_plan(selected, chosen, bench)
    times_path = out / "rung-times.json"  # what each rung took when it was made, for the report of a rerun
    times = json.loads(times_path.read_text()) if times_path.is_file() else {}
    eval_dirs: dict[str, Path] = {}
    unavailable: dict[str, str] = {}
    reused = 0
    for method, job in rungs.items():
        t0 = time.perf_counter()
        rebuilt = lad.build_rung(plan, job.rung, job.items)
        t1 = time.perf_counter()
        eval_dirs[method], scored = _evaluate_rung(bench, out, job, frames, workers, rebuilt, progress)
        t2 = time.perf_counter()
        if rebuilt or scored:
            entry = times.setdefault(method, {"build": 0.0, "eval": 0.0})
            entry["build"] = t1 - t0 if rebuilt else entry["build"]
            entry["eval"] = t2 - t1
            atomic_write(times_path, json.dumps(times, indent=1, sort_keys=True) + "\n")
        else:
            reused += 1
        unavailable.update(json.loads((eval_dirs[method] / "summary.json").read_text()).get("unavailable", {}))
        log.info("validate: %s (%d items) build %.1fs eval %.1fs", method, len(job.items), t1 - t0, t2 - t1)
    scores, missing = judge(selected, eval_dirs)
    seconds = {"build": sum(times.get(m, {}).get("build", 0.0) for m in rungs),
               "eval": sum(times.get(m, {}).get("eval", 0.0) for m in rungs),
               "reused": float(reused)}
    report = ValidationReport(scores=scores, identity=_identity(eval_dirs), bench=bench.name,
                              items=[i.id for i in chosen], frames=frames, seconds=seconds,
                              unavailable=unavailable, rung_methods=list(rungs), missing=missing)
    report.seconds["total"] = time.perf_counter() - start
    write_report(report, out)
    return report


def sample_bench(out: str | Path) -> Path:
    """The embedded mini benchmark in ``OUT/bench``, prepared once and reused when already there."""
    from exprbench.benchmark.manifest import MANIFEST_NAME
    from exprbench.benchmark.prepare import prepare_sample
    from exprbench.errors import ExprBenchError

    root = Path(out) / "bench"
    if (root / MANIFEST_NAME).is_file():
        try:
            load_benchmark(root)
            return root
        except ExprBenchError as exc:
            log.warning("validate: %s is not a usable benchmark (%s); preparing it again", root, exc)
    prepare_sample(root)
    return root
