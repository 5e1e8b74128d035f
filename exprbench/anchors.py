"""Benchmark anchors: the ``static`` baseline's own scores, stored with the benchmark (protocol v2).

Why: a leaderboard score normalised over the methods present (v1's min-max) changes when a method is
added; on the demo one made-up run reversed static and warp. v2 normalises each face's metric between a
fixed anchor and the metric's ideal (``PROTOCOL.ranking``). For most metrics the anchor is "doing
nothing": the static baseline (a frozen copy of the portrait) on the same item and face. Those values
depend only on the benchmark, so they are computed once (``exprbench anchors``), written to
``BENCH/anchors-v2.json`` with the protocol version and the benchmark's content hash, and copied into
every eval's output (``K_anchor`` columns of per_item.csv, ``anchor`` of set metrics), so a leaderboard
built from eval folders alone ranks every run against the same scale.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd

from exprbench.benchmark.manifest import MANIFEST_NAME, Benchmark
from exprbench.errors import InputError
from exprbench.files import atomic_write, sha256_file
from exprbench.protocol import PROTOCOL
from exprbench.scoring.outputs import write_tables
from exprbench.scoring.schema import check_summary, read_json_object, read_per_item

ANCHOR_METHOD = "static"


def anchors_name() -> str:
    """``anchors-v2.json``: anchors of another protocol version are never read."""
    return f"anchors-{PROTOCOL.version}.json"


def benchmark_sha256(bench: Benchmark) -> str:
    """Content hash of a benchmark: its manifest bytes and the bytes of every file an item names.

    Two runs are ranked together only when this is equal (``PROTOCOL.ranking.comparable``): a benchmark
    re-prepared with other media or settings has the same name but different numbers."""
    from exprbench.faces.cache import content_hash

    digest = hashlib.sha256((bench.root / MANIFEST_NAME).read_bytes())
    files = sorted({rel for item in bench.items
                    for rel in (item.portrait, item.ground_truth, item.driving_multi, *(item.driving or [])) if rel})
    for rel in files:
        digest.update(f"\n{rel}\n{content_hash(bench.path(rel))}".encode())
    return digest.hexdigest()


def face_key(item_id: str, face: int) -> str:
    return f"{item_id}#{int(face)}"


def _anchored_keys() -> list[str]:
    return [m.key for m in PROTOCOL.metrics if m.anchor == "static" and not m.extra]


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if not math.isnan(number) else None


def anchors_from_eval(bench: Benchmark, eval_dir: str | Path) -> dict:
    """The anchors record from an ``exprbench eval`` of the static baseline on every item of ``bench``."""
    eval_dir = Path(eval_dir)
    summary_path = eval_dir / "summary.json"
    summary = read_json_object(summary_path, "summary.json of an eval of the static baseline")
    check_summary(summary_path, summary)
    if summary.get("method") != ANCHOR_METHOD:
        raise InputError(summary_path, f"scores method {summary.get('method')!r}; anchors come from "
                                       f"{ANCHOR_METHOD!r}", "evaluate the static baseline first")
    if summary.get("protocol") != PROTOCOL.version:
        raise InputError(summary_path, f"was scored with protocol {summary.get('protocol')}, anchors need "
                                       f"{PROTOCOL.version}", "re-run 'exprbench eval'")
    digest = benchmark_sha256(bench)
    if summary.get("benchmark_sha256") != digest:
        raise InputError(summary_path, "was scored on another benchmark (content hash differs)",
                         "evaluate static on this benchmark")
    if summary.get("errors"):
        raise InputError(summary_path, f"has failed items ({', '.join(sorted(summary['errors']))})",
                         "anchors need every item scored")
    frame = read_per_item(eval_dir / "per_item.csv")
    missing = {i.id for i in bench.items} - set(frame["item_id"])
    if missing:
        raise InputError(eval_dir / "per_item.csv", f"lacks item(s) {', '.join(sorted(missing))}",
                         "anchors need an eval of every item (no --split/--items)")
    keys = [k for k in _anchored_keys() if k in frame.columns]
    faces = {face_key(r["item_id"], r["face"]): {k: _finite(r[k]) for k in keys} for _, r in frame.iterrows()}
    sets = {split: {k: _finite(entry.get("value")) for k, entry in block.get("self", {}).get("metrics", {}).items()
                    if k in _anchored_keys() and "network" in entry}
            for split, block in summary.get("splits", {}).items()}
    return {"protocol": PROTOCOL.version, "benchmark": bench.name, "benchmark_sha256": digest,
            "source": ANCHOR_METHOD, "faces": faces, "sets": {s: v for s, v in sets.items() if v}}


def write_anchors(bench: Benchmark, eval_dir: str | Path) -> Path:
    """Write ``BENCH/anchors-v2.json`` from a static eval, and attach the anchors to that eval's output."""
    record = anchors_from_eval(bench, eval_dir)
    target = bench.root / anchors_name()
    atomic_write(target, json.dumps(record, indent=1, sort_keys=True) + "\n")
    attach_to_eval(eval_dir, load_anchors(bench))
    return target


def _check_anchor_values(path: Path, record: dict) -> None:
    """Refuse an anchors file whose values are not ``{face or split: {metric key: number or null}}``."""
    if not isinstance(record.get("source"), str):
        raise InputError(path, "field source must be a string", "rerun 'exprbench anchors'")
    for field in ("faces", "sets"):
        table = record.get(field)
        if not isinstance(table, dict):
            raise InputError(path, f"field {field} must be an object", "rerun 'exprbench anchors'")
        for where, values in table.items():
            if not isinstance(values, dict):
                raise InputError(path, f"field {field}.{where} must be an object", "rerun 'exprbench anchors'")
            for key, value in values.items():
                if not (value is None or (type(value) in (int, float) and math.isfinite(value))):
                    raise InputError(path, f"field {field}.{where}.{key} must be a finite number or null, got "
                                           f"{value!r}", "rerun 'exprbench anchors'")


def load_anchors(bench: Benchmark) -> dict | None:
    """The benchmark's anchors, or None when it has none; anchors of a changed benchmark are refused."""
    path = bench.root / anchors_name()
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(path, f"is not valid JSON ({exc})", "rerun 'exprbench anchors'") from None
    if not isinstance(record, dict) or record.get("protocol") != PROTOCOL.version:
        raise InputError(path, f"is not a protocol {PROTOCOL.version} anchors file", "rerun 'exprbench anchors'")
    _check_anchor_values(path, record)
    if record.get("benchmark_sha256") != benchmark_sha256(bench):
        raise InputError(path, "belongs to another version of this benchmark (content hash differs)",
                         "rerun 'exprbench anchors' on it")
    record["sha256"] = sha256_file(path)
    return record


def attach(frame: pd.DataFrame, summary: dict, anchors: dict | None) -> pd.DataFrame:
    """Copy anchors into an eval's rows (``K_anchor``) and set-metric entries (``anchor``); in place for
    the summary, returns the new frame."""
    if anchors is None:
        summary["anchors"] = None
        return frame
    summary["anchors"] = {"sha256": anchors["sha256"], "source": anchors["source"], "protocol": anchors["protocol"]}
    frame = frame.copy()
    for key in _anchored_keys():
        if key in frame.columns:
            frame[f"{key}_anchor"] = [
                anchors["faces"].get(face_key(i, f), {}).get(key) for i, f in zip(frame["item_id"], frame["face"])]
            frame[f"{key}_anchor"] = frame[f"{key}_anchor"].astype(float)
    for split, modes in summary.get("splits", {}).items():
        for key, entry in modes.get("self", {}).get("metrics", {}).items():
            if "network" in entry:
                entry["anchor"] = anchors.get("sets", {}).get(split, {}).get(key)
    return frame


def attach_to_eval(eval_dir: str | Path, anchors: dict | None) -> None:
    """Rewrite an eval folder's per_item.csv and summary.json with ``anchors`` attached."""
    eval_dir = Path(eval_dir)
    summary = read_json_object(eval_dir / "summary.json", "summary.json")
    check_summary(eval_dir / "summary.json", summary)
    frame = read_per_item(eval_dir / "per_item.csv")
    frame = frame[[c for c in frame.columns if not c.endswith("_anchor")]]
    write_tables(eval_dir, attach(frame, summary, anchors), summary)

