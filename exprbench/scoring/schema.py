"""The shape of ``exprbench eval``'s output, checked field by field before anything reads it.

Why hand-written checks and not only JSON Schema: jsonschema counts 50.0 as an integer and a
``"four"`` that slips through becomes a ``ValueError`` deep in the leaderboard. Every reader of an
eval folder (``exprbench leaderboard``, ``exprbench anchors``) calls these first, so a damaged or
hand-edited file is refused in one line naming the file and the field.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from exprbench.errors import InputError

_HINT = "re-run 'exprbench eval' to rewrite it"
# the optional run record beside summary.json: who ran the eval and which version of the method
RUN_FILE = "run.json"
RUN_KEYS = ("method_version", "run_by")


def is_count(value: Any) -> bool:
    """A non-negative integer that is really an int (not a bool, not 50.0)."""
    return type(value) is int and value >= 0


def is_fraction(value: Any) -> bool:
    return type(value) in (int, float) and 0.0 <= value <= 1.0


def is_number_or_null(value: Any) -> bool:
    """A metric value: a number, null (unmeasured) or the strings eval writes for infinities."""
    return value is None or value in ("inf", "-inf") or (type(value) in (int, float) and not math.isnan(value))


def _fail(path: Path, field: str, expected: str, value: Any) -> None:
    raise InputError(path, f"field {field} must be {expected}, got {value!r}", _HINT)


def _check_metric(path: Path, where: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        _fail(path, where, "an object", entry)
    if "value" not in entry or not is_number_or_null(entry["value"]):
        _fail(path, f"{where}.value", "a number or null", entry.get("value"))
    for key in ("n", "faces_lost", "n_generated", "n_reference"):
        if key in entry and not is_count(entry[key]):
            _fail(path, f"{where}.{key}", "a non-negative integer", entry[key])
    if "coverage" in entry and not is_fraction(entry["coverage"]):
        _fail(path, f"{where}.coverage", "a number in [0, 1]", entry["coverage"])
    if "anchor" in entry and not is_number_or_null(entry["anchor"]):
        _fail(path, f"{where}.anchor", "a number or null", entry["anchor"])
    if "warnings" in entry and not (isinstance(entry["warnings"], list)
                                    and all(isinstance(w, str) for w in entry["warnings"])):
        _fail(path, f"{where}.warnings", "a list of strings", entry["warnings"])


def check_summary(path: Path, summary: Any) -> None:
    """Refuse a summary.json whose fields have the wrong type or range (one line, naming the field)."""
    if not isinstance(summary, dict):
        _fail(path, "(top level)", "an object", type(summary).__name__)
    for key in ("method", "benchmark", "protocol"):
        if not isinstance(summary.get(key), str) or not summary[key]:
            _fail(path, key, "a non-empty string", summary.get(key))
    splits = summary.get("splits")
    if not isinstance(splits, dict):
        _fail(path, "splits", "an object", splits)
    for split, modes in splits.items():
        if not isinstance(modes, dict):
            _fail(path, f"splits.{split}", "an object", modes)
        for mode, block in modes.items():
            where = f"splits.{split}.{mode}"
            if mode not in ("self", "cross"):
                _fail(path, where, "a mode 'self' or 'cross'", mode)
            if not isinstance(block, dict):
                _fail(path, where, "an object", block)
            for key in ("items", "faces", "items_requested", "items_in_benchmark"):
                if key in block and not is_count(block[key]):
                    _fail(path, f"{where}.{key}", "a non-negative integer", block[key])
            for key in ("coverage", "faces_matched"):
                if key in block and not is_fraction(block[key]):
                    _fail(path, f"{where}.{key}", "a number in [0, 1]", block[key])
            metrics = block.get("metrics")
            if not isinstance(metrics, dict):
                _fail(path, f"{where}.metrics", "an object", metrics)
            for key, entry in metrics.items():
                _check_metric(path, f"{where}.metrics.{key}", entry)
    for key in ("unavailable", "errors"):
        if key in summary and not isinstance(summary[key], dict):
            _fail(path, key, "an object", summary[key])
    anchors = summary.get("anchors")
    if anchors is not None and not (isinstance(anchors, dict) and isinstance(anchors.get("sha256"), str)):
        _fail(path, "anchors", "null or an object with a sha256", anchors)
    if "benchmark_sha256" in summary and not isinstance(summary["benchmark_sha256"], str):
        _fail(path, "benchmark_sha256", "a string", summary["benchmark_sha256"])


def check_per_item(path: Path, frame: pd.DataFrame) -> None:
    """Refuse a per_item.csv whose key columns are empty or unknown, or whose numeric columns hold text or
    out-of-range values."""
    for column, allowed in (("split", ("single", "multi")), ("mode", ("self", "cross"))):
        bad = [v for v in frame[column] if v not in allowed] if column in frame else []
        if bad:
            raise InputError(path, f"column {column} must be one of {', '.join(allowed)}, got {bad[0]!r}", _HINT)
    if "item_id" in frame and not all(isinstance(v, str) and v for v in frame["item_id"]):
        raise InputError(path, "column item_id must hold non-empty item ids", _HINT)
    if "face" in frame and not pd.api.types.is_integer_dtype(frame["face"]):
        raise InputError(path, "column face must hold non-negative integers", _HINT)
    if "face" in frame and (frame["face"] < 0).any():
        raise InputError(path, "column face must hold non-negative integers", _HINT)
    for column in frame.columns:
        if "@" not in column and column not in ("coverage", "frames", "n_faces"):
            continue
        if not pd.api.types.is_numeric_dtype(frame[column]):
            bad = next(v for v in frame[column] if not _numeric(v))
            raise InputError(path, f"column {column} must be numeric, got {bad!r}", _HINT)
        if (column == "coverage" or column.endswith("_coverage")) and \
                ((frame[column] < 0) | (frame[column] > 1)).any():
            raise InputError(path, f"column {column} must lie in [0, 1]", _HINT)


def _numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def read_json_object(path: Path, what: str) -> dict:
    """A JSON object from an eval folder, or a one-line error naming the file (missing, not JSON, not an object)."""
    if not path.is_file():
        raise InputError(path, f"is missing: not an exprbench eval output folder ({what})",
                         "pass folders written by 'exprbench eval --out'")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not valid JSON ({exc})", "re-run 'exprbench eval' to rewrite it") from exc
    if not isinstance(data, dict):
        raise InputError(path, "must hold a JSON object")
    return data


def read_run_record(folder: Path) -> dict[str, str]:
    """``folder/run.json`` (``{"method_version": ..., "run_by": ...}``, both optional), checked; {} when absent."""
    path = folder / RUN_FILE
    if not path.is_file():
        return {}
    record = read_json_object(path, "optional run record")
    unknown = sorted(set(record) - set(RUN_KEYS))
    if unknown:
        raise InputError(path, f"has unknown key(s) {', '.join(unknown)}", f"allowed: {', '.join(RUN_KEYS)}")
    for key, value in record.items():
        if not isinstance(value, str) or not value.strip():
            raise InputError(path, f"'{key}' must be a non-empty string")
    return {k: v.strip() for k, v in record.items()}


def read_per_item(path: Path) -> pd.DataFrame:
    """An eval folder's per_item.csv, read and checked (``check_per_item``), or a one-line error naming it."""
    if not path.is_file():
        raise InputError(path, "is missing (the per-face detail comes from it)", "re-run 'exprbench eval'")
    try:
        frame = pd.read_csv(path, dtype={"item_id": str, "split": str, "mode": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot be read as CSV ({exc})", "re-run 'exprbench eval'") from exc
    missing = {"item_id", "split", "mode", "face", "matched", "coverage"} - set(frame.columns)
    if missing:
        raise InputError(path, f"lacks column(s) {', '.join(sorted(missing))}", "re-run 'exprbench eval'")
    check_per_item(path, frame)
    return frame
