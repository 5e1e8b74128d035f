"""Writing an eval folder's tables: per_item.csv and summary.json, each all or nothing.

JSON has no infinities or NaN: +inf (a bit-identical copy's PSNR) is written as the string "inf",
NaN (nothing measured) as null; ``schema`` accepts exactly these when the files are read back.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from exprbench.files import atomic_write


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats replaced by "inf", "-inf" or None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else None)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: Path, payload: Any) -> Path:
    """``payload`` as indented, key-sorted JSON (non-finite floats made safe), atomically."""
    return atomic_write(path, json.dumps(json_safe(payload), indent=1, sort_keys=True) + "\n")


def write_tables(out: Path, frame: pd.DataFrame, summary: dict) -> None:
    """per_item.csv and summary.json, each written atomically (6 significant digits in the CSV)."""
    atomic_write(out / "per_item.csv", frame.to_csv(index=False, float_format="%.6g"))
    write_json(out / "summary.json", summary)
