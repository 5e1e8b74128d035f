"""Ranking v2: metrics normalised against the benchmark's own anchors, paired bootstrap ties.

Why this and not v1's min-max over the methods present: with min-max every score depends on which
other runs are on the board (adding one made-up run reversed static and warp). Here a run's score
depends only on its own values and the benchmark's anchors (``PROTOCOL.ranking``):

- per face and ranked metric ``n = (v - a) / (ideal - a)`` clipped to [-1, 1]; ``a`` is the face's
  ``K_anchor`` (the static baseline's value, anchor ``static``) or the protocol's ``worst`` (anchor
  ``fixed``). A face whose anchor is missing or within ``min_span`` of the ideal is left out, which
  depends on the anchor only, so it is left out for every method alike;
- frames a metric could not measure take the floor: a face's ``n`` is ``c * n_kept + (1 - c) * (-1)``
  with ``c`` its ``K_coverage`` (``PROTOCOL.coverage.lost_face``), so losing frames can only lower a
  standing, in proportion, without a threshold cliff; an unmeasured face is -1; faces below
  ``min_coverage`` are flagged as lost;
- a metric's split value is the mean over the used faces; set metrics (FID, FVD) are normalised once
  per split against their split anchor; the score is the mean over the mode's ranked metrics;
- significance is a paired bootstrap over items (faces of an item move together): the resampled item
  indices depend only on the seed and the number of items, so two methods' verdict is computed from
  those two methods alone and a third one cannot change it. Rank = 1 + the number of methods
  significantly better.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from exprbench.protocol import PROTOCOL, MetricProtocol

RULE = PROTOCOL.ranking
LOW, HIGH = RULE.clip
TESTED = "paired bootstrap"
UNTESTED = "untested"


def is_set_metric(m: MetricProtocol) -> bool:
    """FID and FVD pool a whole split: no per-face value, normalised once per split."""
    from exprbench.metrics import get_metric

    return get_metric(m.name).kind == "set"


def ranked_metrics(mode: str) -> list[MetricProtocol]:
    """The metrics that count in the score of ``mode`` (labelled extras count in none)."""
    return [m for m in PROTOCOL.metrics if mode in m.ranked_modes]


def usable_anchor(m: MetricProtocol, anchor: float) -> bool:
    """An anchor discriminates methods only if it is known and at least ``min_span`` from the ideal."""
    if anchor is None or not math.isfinite(anchor):
        return False
    span = abs(m.ideal - anchor)
    return span > 0 and span >= m.min_span


def normalise_value(m: MetricProtocol, value: float, anchor: float) -> float:
    """``(v - a) / (ideal - a)`` clipped; NaN when the anchor is unusable or the value unmeasured."""
    if not usable_anchor(m, anchor) or value is None or math.isnan(value):
        return math.nan
    with np.errstate(invalid="ignore", over="ignore"):
        n = (value - anchor) / (m.ideal - anchor)
    return float(np.clip(n, LOW, HIGH))


@dataclass(frozen=True)
class FaceNorms:
    """One face metric of one run, split and mode: per face and aggregated per item (for the bootstrap)."""

    faces: pd.DataFrame          # item_id, face, value, coverage, anchor, used, lost, n
    items: tuple[str, ...]       # sorted item ids
    n_sum: np.ndarray            # per item: sum of n over used faces
    n_count: np.ndarray          # per item: used faces
    raw_sum: np.ndarray          # per item: sum of the measured raw values
    raw_count: np.ndarray        # per item: faces with a raw value

    @property
    def norm(self) -> float:
        total = self.n_count.sum()
        return float(self.n_sum.sum() / total) if total else math.nan

    @property
    def faces_lost(self) -> int:
        return int(self.faces["lost"].sum())

    @property
    def faces_used(self) -> int:
        return int(self.faces["used"].sum())


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)


def face_norms(m: MetricProtocol, rows: pd.DataFrame) -> FaceNorms:
    """Normalise metric ``m`` on the per_item.csv ``rows`` of one split and mode (one row per face)."""
    value = _column(rows, m.key)
    coverage = _column(rows, f"{m.key}_coverage")
    anchor = _column(rows, f"{m.key}_anchor") if m.anchor == "static" else np.full(len(rows), float(m.worst))
    used = np.array([usable_anchor(m, a) for a in anchor], dtype=bool)
    with np.errstate(invalid="ignore"):
        lost = used & (~(coverage >= PROTOCOL.coverage.min_coverage) | np.isnan(value))
    kept = np.clip(np.nan_to_num(coverage, nan=0.0), 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        n = np.clip((value - anchor) / (m.ideal - anchor), LOW, HIGH)
    n = np.where(np.isnan(value), LOW, kept * n + (1.0 - kept) * LOW)  # unmeasured frames take the floor
    n = np.where(used, n, np.nan)
    faces = pd.DataFrame({"item_id": rows["item_id"].astype(str).to_numpy(), "face": rows["face"].to_numpy(),
                          "value": value, "coverage": coverage, "anchor": anchor, "used": used, "lost": lost, "n": n})
    items = tuple(sorted(faces["item_id"].unique()))
    grouped = faces.assign(n0=np.nan_to_num(n, nan=0.0), u=used.astype(np.int64),
                           r0=np.where(np.isnan(value), 0.0, value), rc=(~np.isnan(value)).astype(np.int64))
    agg = grouped.groupby("item_id")[["n0", "u", "r0", "rc"]].sum().reindex(list(items))
    return FaceNorms(faces=faces, items=items, n_sum=agg["n0"].to_numpy(np.float64),
                     n_count=agg["u"].to_numpy(np.float64), raw_sum=agg["r0"].to_numpy(np.float64),
                     raw_count=agg["rc"].to_numpy(np.float64))


@lru_cache(maxsize=64)
def resample_weights(n_items: int) -> np.ndarray:
    """(resamples, n_items) counts of each item per bootstrap resample, from the protocol's seed.

    Depends only on the seed and the number of items, so every method of a group (and every later
    build) sees the same resampled items: the pairing of the paired bootstrap."""
    rng = np.random.default_rng(RULE.bootstrap_seed)
    idx = rng.integers(0, n_items, size=(RULE.bootstrap_resamples, n_items))
    flat = idx + (np.arange(RULE.bootstrap_resamples) * n_items)[:, None]
    weights = np.bincount(flat.ravel(), minlength=RULE.bootstrap_resamples * n_items)
    weights = weights.reshape(RULE.bootstrap_resamples, n_items).astype(np.float64)
    weights.setflags(write=False)
    return weights


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def percentile_interval(samples: np.ndarray) -> tuple[float, float]:
    """The central ``confidence`` percentile interval of bootstrap samples (NaN samples dropped)."""
    finite = samples[~np.isnan(samples)]
    if not finite.size:
        return (math.nan, math.nan)
    tail = (1.0 - RULE.confidence) / 2.0
    with np.errstate(invalid="ignore"):
        lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return (float(lo), float(hi))


@dataclass
class Scoring:
    """The normalised numbers of one run, split and mode, and what the bootstrap needs of them."""

    items: tuple[str, ...]
    face: dict[str, FaceNorms] = field(default_factory=dict)       # face and paired metrics, by name
    sets: dict[str, float] = field(default_factory=dict)           # set metrics' normalised value, by name
    left_out: dict[str, str] = field(default_factory=dict)         # metric name -> why it is not in the score

    def norms(self) -> dict[str, float]:
        out = {name: f.norm for name, f in self.face.items()}
        out.update(self.sets)
        return out

    def score(self) -> float:
        values = [v for v in self.norms().values() if not math.isnan(v)]
        return float(np.mean(values)) if values else math.nan

    def scored_metrics(self) -> list[str]:
        return sorted(name for name, v in self.norms().items() if not math.isnan(v))

    def score_samples(self, items: tuple[str, ...]) -> np.ndarray:
        """The score under every bootstrap resample of ``items`` (the group's sorted item ids)."""
        weights = resample_weights(len(items))
        columns = []
        for name in self.scored_metrics():
            if name in self.sets:
                columns.append(np.full(weights.shape[0], self.sets[name]))
                continue
            f = self.face[name]
            order = [f.items.index(i) if i in f.items else -1 for i in items]
            s = np.array([f.n_sum[k] if k >= 0 else 0.0 for k in order])
            c = np.array([f.n_count[k] if k >= 0 else 0.0 for k in order])
            columns.append(_ratio(weights @ s, weights @ c))
        if not columns:
            return np.full(weights.shape[0], np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample without any used face is NaN
            return np.nanmean(np.column_stack(columns), axis=1)

    def raw_interval(self, name: str) -> tuple[float, float]:
        """Percentile interval of the raw split mean (faces pooled) by bootstrap over items."""
        f = self.face[name]
        weights = resample_weights(len(f.items))
        with np.errstate(invalid="ignore"):
            return percentile_interval(_ratio(weights @ f.raw_sum, weights @ f.raw_count))

    def score_interval(self) -> tuple[float, float]:
        return percentile_interval(self.score_samples(self.items))


def score_block(mode: str, rows: pd.DataFrame, block: dict) -> Scoring:
    """Normalise every ranked metric of ``mode`` for one run's split and mode.

    ``rows``: the per_item.csv rows of the split and mode; ``block``: summary.json's
    ``splits[split][mode]``. A ranked metric the run did not measure at all is simply absent (which
    makes the row incomparable with runs that measured it)."""
    items = tuple(sorted(rows["item_id"].astype(str).unique()))
    out = Scoring(items=items)
    metrics_block = block.get("metrics") or {}
    for m in ranked_metrics(mode):
        entry = metrics_block.get(m.key)
        if is_set_metric(m):
            value = _entry_value(entry)
            if math.isnan(value):
                continue
            anchor = entry.get("anchor") if isinstance(entry, dict) else None
            anchor = math.nan if anchor is None else _as_float(anchor)
            n = normalise_value(m, value, anchor)
            out.sets[m.name] = n
            if math.isnan(n):
                out.left_out[m.name] = ("no split anchor" if math.isnan(anchor)
                                        else f"anchor {anchor:.4g} within min_span {m.min_span:g} of the ideal")
            continue
        if m.key not in rows and m.key not in metrics_block:
            continue
        f = face_norms(m, rows)
        out.face[m.name] = f
        if not f.faces_used:
            out.left_out[m.name] = "no face with a usable anchor (missing or within min_span of the ideal)"
    return out


def _as_float(value: object) -> float:
    if isinstance(value, str):
        return {"inf": math.inf, "-inf": -math.inf}.get(value, math.nan)
    return math.nan if value is None else float(value)


def _entry_value(entry: object) -> float:
    return _as_float(entry.get("value")) if isinstance(entry, dict) else math.nan


@dataclass(frozen=True)
class Pair:
    """The paired bootstrap verdict between two rows of one group: ``a`` minus ``b``."""

    a: int
    b: int
    difference: float
    ci_low: float
    ci_high: float
    tested: bool

    @property
    def significant(self) -> bool:
        return self.tested and (self.ci_low > 0 or self.ci_high < 0)

    @property
    def a_better(self) -> bool:
        if self.tested:
            return self.ci_low > 0
        return round(self.difference, 9) > 0


def compare(a: Scoring, b: Scoring, ia: int, ib: int, items: tuple[str, ...]) -> Pair:
    """Paired bootstrap of the score difference (the same resampled items for both rows)."""
    diff = a.score() - b.score()
    if len(items) < RULE.min_items_for_ci:
        return Pair(ia, ib, diff, math.nan, math.nan, tested=False)
    lo, hi = percentile_interval(a.score_samples(items) - b.score_samples(items))
    return Pair(ia, ib, diff, lo, hi, tested=True)


def rank_group(scorings: list[Scoring]) -> tuple[list[int], list[Pair]]:
    """Ranks (1 + rows significantly better; untested: strictly better point estimate) and all pairs."""
    items = scorings[0].items if scorings else ()
    pairs = [compare(scorings[i], scorings[j], i, j, items)
             for i in range(len(scorings)) for j in range(len(scorings)) if i != j]
    ranks = [1 + sum(1 for p in pairs if p.b == i and p.a_better) for i in range(len(scorings))]
    return ranks, pairs
