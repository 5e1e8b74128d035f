"""The FantasyPortrait paper's Table 1 (arXiv:2507.12956), shown beside our runs but never ranked with them.

Why apart: the paper names no extractor, crop, window or unit for its metrics (its AED, APD and LMD
extractors differ from protocol v1's), so its numbers are a different measurement that happens to
share a name. The table is kept as printed (``exprbench/leaderboard/paper_table1.csv``, package data, values copied as text
so trailing zeros survive); its footnote scales three columns, recorded here and in every paper row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from exprbench.errors import InputError

# The project's copy of Table 1, shipped as package data (pyproject.toml) so every install has it.
PAPER_TABLE = Path(__file__).resolve().parent / "paper_table1.csv"
PAPER_SOURCE = "paper (unspecified protocol)"
PAPER_PROTOCOL = "unspecified"
PAPER_RUN_BY = "FantasyPortrait authors (arXiv:2507.12956, Table 1)"
PAPER_BENCHMARK = "paper"
# Table 1's footnote: "LMD multiplied by 10^-3, AED multiplied by 10^-2 and APD multiplied by 10^-3".
PAPER_SCALE = {"lmd": "10^-3", "aed": "10^-2", "apd": "10^-3"}
PAPER_NOTE = ("Table 1 as printed; footnote: " + ", ".join(f"{k.upper()} x{v}" for k, v in PAPER_SCALE.items())
              + "; extractors unspecified, not comparable with protocol v1")

# CSV column -> (mode, metric name): FID..MAE are self-reenactment, AED, APD and the second MAE cross.
_COLUMNS = {"FID": ("self", "fid"), "FVD": ("self", "fvd"), "PSNR": ("self", "psnr"), "SSIM": ("self", "ssim"),
            "LMD": ("self", "lmd"), "MAE_self": ("self", "mae"), "AED": ("cross", "aed"),
            "APD": ("cross", "apd"), "MAE_cross": ("cross", "mae")}
_SPLITS = {"Single": "single", "Multi": "multi"}


@dataclass(frozen=True)
class PaperRow:
    """One method, split and mode of Table 1; ``values`` are the printed strings by metric name."""

    method: str
    split: str
    mode: str
    values: dict[str, str]


def load_paper_table(path: str | Path = PAPER_TABLE) -> list[PaperRow]:
    """Table 1 as one row per method, split and mode, in the paper's order (self before cross)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "is missing (the paper's Table 1)", "pass --paper PATH or --no-paper")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        expected = ["dataset", "method", *_COLUMNS]
        if reader.fieldnames != expected:
            raise InputError(path, f"has columns {reader.fieldnames}", f"expected {','.join(expected)}")
        records = list(reader)
    rows: list[PaperRow] = []
    for record in records:
        if record["dataset"] not in _SPLITS:
            raise InputError(path, f"dataset {record['dataset']!r} is not Single or Multi")
        for mode in ("self", "cross"):
            values = {name: record[col] for col, (m, name) in _COLUMNS.items() if m == mode}
            for name, text in values.items():
                try:
                    float(text)  # a typo in the copy fails here, not in a plot
                except ValueError:
                    raise InputError(path, f"{record['method']} {name}: {text!r} is not a number") from None
            rows.append(PaperRow(method=record["method"], split=_SPLITS[record["dataset"]], mode=mode,
                                 values=values))
    return rows
