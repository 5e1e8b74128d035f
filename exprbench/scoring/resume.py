"""Resumable eval: each scored item's outcome is kept in ``OUT/.partial/`` until the run completes.

Why: scoring a benchmark takes hours; a run killed at any point (SIGKILL, OOM, Ctrl-C, a lost node)
must continue from the items already scored and write exactly what an uninterrupted run writes.

- One file per item, ``OUT/.partial/<key>.npz``: the rows, timings and decode count as JSON plus the
  set-metric features as arrays (no pickle). Written through ``exprbench.files.atomic_path``, so a
  kill mid-write leaves no entry under a valid key (a stray temp file is never read, and goes with
  the folder).
- The key is a sha256 over everything that decides the outcome: the item's manifest entry, the
  content hash of the result video and of every benchmark file the item reads (portrait, driving
  videos, ground truth), the protocol (``protocol_dict``), the options that change scoring (metrics,
  allow_short), the set metrics available, and the toolkit version. A changed protocol, benchmark or
  result file therefore misses and is rescored; stale entries are simply never read.
- Items that failed (``--keep-going``) are not kept: a rerun retries them.
- Once summary.json and the rest are written, ``.partial/`` is removed.

Output identity: per_item.csv and config.json are byte-identical to an uninterrupted run's;
summary.json is too except its ``timings`` block, which sums the stored timings of resumed items
with the new ones (two uninterrupted runs differ there as well).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from exprbench import __version__, protocol
from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.benchmark.results import ResultCheck
from exprbench.faces.cache import content_hash
from exprbench.files import atomic_path
from exprbench.scoring.options import EvalOptions, ItemOutcome

PARTIAL = ".partial"
_FORMAT = "eval-partial-1"


def partial_dir(out: Path) -> Path:
    return Path(out) / PARTIAL


def _json_default(value):  # noqa: ANN001, ANN202 - numpy scalars in rows
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in an eval partial")


def item_key(bench: Benchmark, item: Item, check: ResultCheck, options: EvalOptions,
             set_available: tuple[str, ...]) -> str:
    """sha256 of everything that decides an item's outcome (see the module docstring)."""
    inputs = [item.portrait, item.ground_truth, item.driving_multi, *(item.driving or [])]
    material = {
        "format": _FORMAT, "exprbench": __version__, "item": item.to_json(),
        "result": content_hash(Path(check.info.path)),
        "inputs": {rel: content_hash(bench.path(rel)) for rel in inputs if rel},
        "protocol": protocol.protocol_dict(),
        "options": {"metrics": list(options.metrics) if options.metrics is not None else None,
                    "allow_short": options.allow_short},
        "set_available": list(set_available),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def save(folder: Path, key: str, outcome: ItemOutcome) -> Path | None:
    """Atomically store a successful outcome under ``key``; failed ones are not kept."""
    if outcome.error is not None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"format": _FORMAT, "item_id": outcome.item_id, "rows": outcome.rows, "timings": outcome.timings,
            "decode_errors": outcome.decode_errors,
            "features": {m: {side: len(v) for side, v in sides.items()} for m, sides in outcome.features.items()}}
    arrays = {f"{m}|{side}|{i}": np.asarray(a) for m, sides in outcome.features.items()
              for side, values in sides.items() for i, a in enumerate(values)}
    target = folder / f"{key}.npz"
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta, default=_json_default)), **arrays)
    return target


def load(folder: Path, key: str) -> ItemOutcome | None:
    """The stored outcome for ``key``, or None (absent or unreadable: it is then rescored)."""
    path = folder / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != _FORMAT:
                return None
            features = {m: {side: [data[f"{m}|{side}|{i}"] for i in range(count)] for side, count in sides.items()}
                        for m, sides in meta["features"].items()}
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None
    return ItemOutcome(item_id=meta["item_id"], rows=meta["rows"], features=features, timings=meta["timings"],
                       decode_errors=int(meta.get("decode_errors", 0)))


def finish(out: Path) -> None:
    """The run is written: drop the partial outcomes."""
    shutil.rmtree(partial_dir(out), ignore_errors=True)
