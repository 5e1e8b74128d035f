"""Run an adapter over benchmark items: resume, normalise, record, and keep going past failures.

Layout under RESULTS/<method>/: ``<item_id>.mp4`` (the normalised result), ``<item_id>.json`` (its
sidecar: adapter name, version and config, wall time, the multi-face strategy, and every change the
normaliser made), ``logs/`` (external methods' stdout/stderr, and ``errors.log`` with tracebacks), and
``.work/<item_id>/`` (inputs and raw outputs; removed after success unless ``keep_work``, kept after a
failure for inspection). An item counts as finished when its video passes ``check_result`` and its
sidecar exists, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import platform
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from baselines.adapter import Adapter
from baselines.job import build_job
from baselines.multiface import generate_per_face
from baselines.normalise import normalise_video
from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.benchmark.results import check_result, result_path
from exprbench.errors import ExprBenchError
from exprbench.files import atomic_write

log = logging.getLogger(__name__)

SIDECAR_SCHEMA = "exprbench-result/1"


@dataclass
class ItemOutcome:
    item_id: str
    status: str  # "done", "skipped" (already finished) or "failed"
    path: Path
    seconds: float = 0.0
    error: str | None = None


def sidecar_path(results: Path, method: str, item: Item) -> Path:
    return result_path(results, method, item).with_suffix(".json")


def is_finished(results: Path, method: str, item: Item) -> bool:
    return sidecar_path(results, method, item).is_file() and check_result(results, method, item).ok


def multi_face_strategy(adapter: Adapter, n_faces: int) -> str:
    """``native`` when the method animates all faces itself, else ``crop_and_composite``."""
    if adapter.needs_face_crop:
        return "crop_and_composite"
    if n_faces == 1:
        return "native"
    if adapter.native_multi_face and (adapter.max_native_faces is None or n_faces <= adapter.max_native_faces):
        return "native"
    return "crop_and_composite"


def run_item(adapter: Adapter, bench: Benchmark, item: Item, results: Path, *, keep_work: bool = False,
             seed: int = 0) -> ItemOutcome:
    """Generate, normalise and record one item (raises on failure; ``generate_items`` catches)."""
    results = Path(results)
    out = result_path(results, adapter.name, item)
    work = results / adapter.name / ".work" / item.id
    shutil.rmtree(work, ignore_errors=True)
    start = time.monotonic()
    job = build_job(bench, item, work, log_dir=results / adapter.name / "logs", seed=seed)
    strategy = multi_face_strategy(adapter, job.n_faces)
    raw = generate_per_face(adapter, job) if strategy == "crop_and_composite" else adapter.generate(job)
    generated = time.monotonic()
    record = normalise_video(raw, out, item.fps, item.frames, job.width, job.height)
    finished = time.monotonic()
    sidecar = {
        "schema": SIDECAR_SCHEMA,
        "method": adapter.name,
        "adapter_version": adapter.version,
        "adapter_config": adapter.config(),
        "benchmark": bench.name,
        "item_id": item.id,
        "multi_face": strategy,
        "seed": seed,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(finished - start, 3),
        "generate_time_s": round(generated - start, 3),
        "host": {"python": platform.python_version(), "machine": platform.machine()},
        "normalisation": record.to_json(),
        "changes": record.changes,
        "notes": job.notes + raw.notes,
        "method_details": raw.details,
    }
    path = sidecar_path(results, adapter.name, item)
    atomic_write(path, json.dumps(sidecar, indent=1, default=str) + "\n")
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return ItemOutcome(item.id, "done", out, seconds=finished - start)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ExprBenchError):
        return str(exc)
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no message'}"


def generate_items(adapter: Adapter, bench: Benchmark, items: list[Item], results: Path, *, force: bool = False,
                   keep_work: bool = False, seed: int = 0,
                   on_item: Callable[[ItemOutcome], None] | None = None) -> list[ItemOutcome]:
    """Run every item; finished ones are skipped (unless ``force``), failures are logged and returned."""
    results = Path(results)
    outcomes = []
    for item in items:
        if not force and is_finished(results, adapter.name, item):
            outcome = ItemOutcome(item.id, "skipped", result_path(results, adapter.name, item))
        else:
            start = time.monotonic()
            try:
                outcome = run_item(adapter, bench, item, results, keep_work=keep_work, seed=seed)
            except Exception as exc:  # noqa: BLE001 - one bad item must not stop a benchmark run; all are reported
                outcome = ItemOutcome(item.id, "failed", result_path(results, adapter.name, item),
                                      seconds=time.monotonic() - start, error=_one_line(exc))
                errors = results / adapter.name / "logs" / "errors.log"
                errors.parent.mkdir(parents=True, exist_ok=True)
                with errors.open("a") as fh:
                    fh.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} {item.id}\n")
                    fh.write("".join(traceback.format_exception(exc)))
                log.error("%s: %s", item.id, outcome.error)
        outcomes.append(outcome)
        if on_item is not None:
            on_item(outcome)
    return outcomes
