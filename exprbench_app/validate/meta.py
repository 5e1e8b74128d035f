"""Meta-evaluation arithmetic: does a metric order a ladder's rungs the way their quality is known to go?

Two figures per metric, ladder and mode, both direction-aware (the metric registry says whether lower
or higher is better), so 1.0 / all pairs correct means a perfect ordering whatever the metric:

- ``spearman``: rank correlation between the rung quality order and the rung's mean value (mean over
  the items and faces that have a value), ties ranked by their average rank;
- ``pairs_correct / pairs_total``: adjacent rungs compared per item and face (per split for set
  metrics such as FID); a pair counts as correct only when the better rung is strictly better, so a
  metric that cannot tell two rungs apart does not earn the pair. Pairs where either value is missing
  are not counted (and show as ``pairs_missing``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KEY = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)@v[0-9]+$")
PASS_SPEARMAN = 0.9


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The result-key columns of a per_item.csv (``psnr@v2``, ``motion@v2``, ...), any protocol version."""
    return [c for c in frame.columns if KEY.match(c)]


def metric_name(key: str) -> str:
    match = KEY.match(key)
    if not match:
        raise ValueError(f"{key!r} is not a result key of the form name@vN")
    return match.group("name")


def oriented(values: np.ndarray, direction: str) -> np.ndarray:
    """Values turned so that higher is always better."""
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}")
    values = np.asarray(values, dtype=np.float64)
    return values if direction == "higher" else -values


def spearman(rung_means: list[float], direction: str) -> float:
    """Spearman correlation between quality order (rung 0 best) and the rung means, 1.0 = perfect.

    NaN when fewer than two rungs have a value or every measured rung has the same value (a metric
    that does not change cannot order anything, and NaN fails the check).
    """
    from scipy.stats import rankdata

    values = oriented(np.asarray(rung_means, dtype=np.float64), direction)
    quality = -np.arange(len(values), dtype=np.float64)  # rung 0 is the best
    keep = ~np.isnan(values)
    if keep.sum() < 2:
        return math.nan
    a, b = rankdata(quality[keep]), rankdata(values[keep])  # +-inf (PSNR of identical frames) rank fine
    if np.all(b == b[0]):
        return math.nan
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / math.sqrt((a * a).sum() * (b * b).sum()))


def adjacent_pairs(table: np.ndarray, direction: str) -> tuple[int, int, int]:
    """(correct, total, missing) over adjacent rungs; ``table`` is (rungs, units) of values, rung 0 best."""
    values = oriented(table, direction)
    better, worse = values[:-1], values[1:]
    both = ~np.isnan(better) & ~np.isnan(worse)
    correct = both & (better > worse)
    return int(correct.sum()), int(both.sum()), int((~both).sum())


@dataclass
class LadderScore:
    """One row of validation.csv."""

    metric: str
    ladder: str
    mode: str
    rungs: int
    spearman: float
    pairs_correct: int
    pairs_total: int
    passed: bool
    direction: str
    pairs_missing: int = 0
    units: int = 0
    rung_labels: list[str] = field(default_factory=list)
    rung_means: list[float] = field(default_factory=list)
    rung_coverage: list[float] = field(default_factory=list)

    def row(self) -> dict:
        return {"metric": self.metric, "ladder": self.ladder, "mode": self.mode, "rungs": self.rungs,
                "spearman": self.spearman, "pairs_correct": self.pairs_correct, "pairs_total": self.pairs_total,
                "passed": self.passed, "direction": self.direction, "pairs_missing": self.pairs_missing,
                "units": self.units, "rung_labels": "|".join(self.rung_labels),
                "rung_means": "|".join(f"{v:.6g}" for v in self.rung_means),
                "rung_coverage": "|".join(f"{v:.3g}" for v in self.rung_coverage)}


def score_ladder(metric: str, ladder: str, mode: str, direction: str, labels: list[str],
                 table: np.ndarray) -> LadderScore:
    """Score one metric on one ladder from its (rungs, units) table of per-item-and-face values."""
    table = np.asarray(table, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        means = [float(np.nanmean(r)) if np.any(~np.isnan(r)) else math.nan for r in table]
    coverage = [float(np.mean(~np.isnan(r))) if r.size else 0.0 for r in table]
    rho = spearman(means, direction)
    correct, total, missing = adjacent_pairs(table, direction)
    return LadderScore(metric=metric, ladder=ladder, mode=mode, rungs=len(labels), spearman=rho,
                       pairs_correct=correct, pairs_total=total, passed=bool(rho >= PASS_SPEARMAN),
                       direction=direction, pairs_missing=missing, units=table.shape[1] if table.ndim == 2 else 0,
                       rung_labels=list(labels), rung_means=means, rung_coverage=coverage)


def unit_table(frames: list[pd.DataFrame], key: str, mode: str) -> np.ndarray:
    """(rungs, units) values of ``key`` for the item-and-face units of ``mode`` present in any rung.

    Units are aligned by (item_id, face); a unit missing from a rung (or without a value) is NaN there.
    """
    index: list[tuple[str, int]] = []
    per_rung = []
    for frame in frames:
        part = frame[frame["mode"] == mode] if len(frame) else frame
        values = {}
        if key in part:
            for item, face, value in zip(part["item_id"], part["face"], part[key], strict=True):
                values[(str(item), int(face))] = float(value) if pd.notna(value) else math.nan
        per_rung.append(values)
        index.extend(u for u in values if u not in index)
    return np.array([[values.get(u, math.nan) for u in index] for values in per_rung], dtype=np.float64).reshape(
        len(frames), len(index))
