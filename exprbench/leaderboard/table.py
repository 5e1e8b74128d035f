"""Leaderboard rows: one per method, split and mode; ranking; the published CSV files.

Ranking (protocol v1, documented on the page): within one protocol, benchmark, split and mode, each
metric is min-max normalised over our rows with its direction, so 1 is the best value and 0 the worst
(+-inf counts as the end of the scale, a metric with one distinct value gives 1 to all); a row's
``score`` is the mean over the metrics it has a value for, and ``rank`` orders rows by score (equal
scores share a rank, a row without any value comes last). Paper rows get neither.

Determinism: rows are sorted on their key, floats are written with one fixed format, and nothing
depends on paths, clocks or the order runs were given in, so the same runs give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np

from exprbench.leaderboard.paper import (
    PAPER_BENCHMARK,
    PAPER_NOTE,
    PAPER_PROTOCOL,
    PAPER_RUN_BY,
    PAPER_SOURCE,
    PaperRow,
)
from exprbench.leaderboard.runs import Run, metric_value
from exprbench.protocol import PROTOCOL, MetricProtocol

OUR_SOURCE = "exprbench eval"
SPLITS = ("single", "multi")
MODES = ("self", "cross")
KEY_COLUMNS = ("source", "method", "method_version", "benchmark", "split", "mode", "protocol", "run_by")
COUNT_COLUMNS = ("items", "items_requested", "faces", "faces_matched", "coverage")
FACE_COUNT_COLUMNS = ("face", "items", "matched", "coverage")
TAIL_COLUMNS = ("unavailable", "note")


def metrics() -> tuple[MetricProtocol, ...]:
    """Every metric of the protocol, in the protocol's (and Table 1's) order."""
    return PROTOCOL.metrics


def face_metrics() -> tuple[MetricProtocol, ...]:
    """Metrics with a value per face (in per_item.csv); set metrics (FID, FVD) pool a whole split."""
    from exprbench.metrics import get_metric

    return tuple(m for m in PROTOCOL.metrics if get_metric(m.name).kind != "set")


def leaderboard_columns() -> list[str]:
    """Columns of ``exprbench-<protocol>-<split>.csv``."""
    cols = ["rank", "score", *KEY_COLUMNS, *COUNT_COLUMNS]
    for m in metrics():
        cols += [m.name, f"{m.name}_coverage"]
    return cols + list(TAIL_COLUMNS)


def face_columns() -> list[str]:
    """Columns of ``exprbench-<protocol>-multi-faces.csv``."""
    cols = [*KEY_COLUMNS, *FACE_COUNT_COLUMNS]
    for m in face_metrics():
        cols += [m.name, f"{m.name}_coverage"]
    return cols


def fmt(value: float | None) -> str:
    """The one float format of every published file: 6 significant digits, ``inf``, empty if missing."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.6g}"
    return "0" if text == "-0" else text


def display(value: float) -> str:
    """Four significant digits for reading (page, README, plots); the CSVs keep six."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


@dataclass
class Entry:
    """One leaderboard row. ``values`` holds the metrics that apply to the row's mode (NaN: unmeasured);
    ``printed`` holds the paper's text for paper rows."""

    source: str
    method: str
    method_version: str
    benchmark: str
    split: str
    mode: str
    protocol: str
    run_by: str
    values: dict[str, float]
    coverage_by_metric: dict[str, float] = field(default_factory=dict)
    printed: dict[str, str] = field(default_factory=dict)
    items: int | None = None
    items_requested: int | None = None
    faces: int | None = None
    faces_matched: float | None = None
    coverage: float | None = None
    unavailable: tuple[str, ...] = ()
    note: str = ""
    score: float = math.nan
    rank: int | None = None

    @property
    def is_paper(self) -> bool:
        return self.source == PAPER_SOURCE

    @property
    def group(self) -> tuple[str, str, str, str]:
        """Rows are ranked only against rows of the same group."""
        return (self.protocol, self.benchmark, self.split, self.mode)

    def cell(self, name: str) -> str:
        """A metric's published text: as printed for the paper, the fixed format for ours."""
        if name in self.printed:
            return self.printed[name]
        return fmt(self.values.get(name))

    def record(self) -> dict[str, str]:
        row = {"rank": fmt(self.rank), "score": fmt(self.score)}
        row.update({c: getattr(self, c) for c in KEY_COLUMNS})
        row.update({c: fmt(getattr(self, c)) for c in COUNT_COLUMNS})
        for m in metrics():
            row[m.name] = self.cell(m.name)
            row[f"{m.name}_coverage"] = fmt(self.coverage_by_metric.get(m.name))
        row.update({"unavailable": ";".join(self.unavailable), "note": self.note})
        return row


def _mode_metrics(mode: str) -> list[MetricProtocol]:
    return [m for m in metrics() if mode in m.modes]


def run_entries(run: Run) -> list[Entry]:
    """One entry per split and mode the run scored."""
    unavailable_keys = set(run.summary.get("unavailable") or {})
    entries = []
    for split, modes in sorted(run.summary["splits"].items()):
        for mode, block in sorted(modes.items()):
            values, coverage = {}, {}
            for m in _mode_metrics(mode):
                entry = block["metrics"].get(m.key)
                values[m.name] = metric_value(entry)
                if isinstance(entry, dict) and "coverage" in entry:
                    coverage[m.name] = float(entry["coverage"])
            unavailable = tuple(m.name for m in _mode_metrics(mode) if m.key in unavailable_keys)
            entries.append(Entry(
                source=OUR_SOURCE, method=run.method, method_version=run.method_version,
                benchmark=run.benchmark, split=split, mode=mode, protocol=run.protocol, run_by=run.run_by,
                values=values, coverage_by_metric=coverage, items=int(block.get("items", 0)),
                items_requested=int(block.get("items_requested", 0)), faces=int(block.get("faces", 0)),
                faces_matched=float(block.get("faces_matched", math.nan)),
                coverage=float(block.get("coverage", math.nan)), unavailable=unavailable))
    return entries


def paper_entries(rows: list[PaperRow]) -> list[Entry]:
    return [Entry(source=PAPER_SOURCE, method=r.method, method_version="", benchmark=PAPER_BENCHMARK,
                  split=r.split, mode=r.mode, protocol=PAPER_PROTOCOL, run_by=PAPER_RUN_BY,
                  values={k: float(v) for k, v in r.values.items()}, printed=dict(r.values), note=PAPER_NOTE)
            for r in rows]


def normalise(values: list[float], direction: str) -> list[float]:
    """Min-max normalise so that 1 is best whatever the direction; NaN stays NaN."""
    finite = [v for v in values if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    out = []
    for v in values:
        if math.isnan(v):
            out.append(math.nan)
        elif math.isinf(v):
            out.append(1.0 if (v > 0) == (direction == "higher") else 0.0)
        elif hi == lo:
            out.append(1.0)
        else:
            t = (v - lo) / (hi - lo)
            out.append(t if direction == "higher" else 1.0 - t)
    return out


def normalised_table(entries: list[Entry]) -> dict[int, dict[str, float]]:
    """Per entry (by position in ``entries``), each metric normalised within the entry's group."""
    out: dict[int, dict[str, float]] = {i: {} for i in range(len(entries))}
    groups: dict[tuple, list[int]] = {}
    for i, e in enumerate(entries):
        if not e.is_paper:
            groups.setdefault(e.group, []).append(i)
    for (_, _, _, mode), members in groups.items():
        for m in _mode_metrics(mode):
            column = normalise([entries[i].values.get(m.name, math.nan) for i in members], m.direction)
            for i, v in zip(members, column):
                out[i][m.name] = v
    return out


def rank(entries: list[Entry]) -> None:
    """Set ``score`` and ``rank`` of our entries (see the module docstring)."""
    norm = normalised_table(entries)
    groups: dict[tuple, list[Entry]] = {}
    for i, e in enumerate(entries):
        if e.is_paper:
            continue
        finite = [v for v in norm[i].values() if not math.isnan(v)]
        e.score = float(np.mean(finite)) if finite else math.nan
        groups.setdefault(e.group, []).append(e)
    for members in groups.values():
        ordered = sorted(members, key=lambda e: (math.isnan(e.score), -round(e.score, 9) if not math.isnan(e.score)
                                                 else 0.0, e.method, e.method_version, e.run_by))
        previous, position = None, 0
        for n, e in enumerate(ordered, start=1):
            key = None if math.isnan(e.score) else round(e.score, 9)
            if key is None or key != previous:
                position = n
            e.rank, previous = position, key


def _mode_order(mode: str) -> int:
    return MODES.index(mode) if mode in MODES else len(MODES)


def sort_key(e: Entry) -> tuple:
    """Ours first (by benchmark, split, mode, rank, method), then the paper's rows in the paper's order."""
    mode, split = _mode_order(e.mode), SPLITS.index(e.split) if e.split in SPLITS else len(SPLITS)
    if e.is_paper:
        return (1, "", split, mode, 0, "")
    return (0, e.benchmark, split, mode, e.rank if e.rank is not None else 10**9, e.method, e.method_version,
            e.run_by)


def ordered(entries: list[Entry]) -> list[Entry]:
    """Stable sort: paper rows keep the order they were given in."""
    return sorted(entries, key=sort_key)


@dataclass
class FaceEntry:
    """Per-face detail of the multi split: one row per run, mode and face position."""

    key: dict[str, str]
    face: int
    items: int
    matched: float
    coverage: float
    values: dict[str, float]
    coverage_by_metric: dict[str, float]

    def record(self) -> dict[str, str]:
        row = dict(self.key)
        row.update({"face": fmt(self.face), "items": fmt(self.items), "matched": fmt(self.matched),
                    "coverage": fmt(self.coverage)})
        for m in face_metrics():
            row[m.name] = fmt(self.values.get(m.name))
            row[f"{m.name}_coverage"] = fmt(self.coverage_by_metric.get(m.name))
        return row


def face_entries(run: Run) -> list[FaceEntry]:
    """Aggregate per_item.csv's multi rows per mode and face position (face 0 is the leftmost)."""
    frame = run.per_item[run.per_item["split"] == "multi"]
    groups = sorted(frame.groupby(["mode", "face"]), key=lambda kv: (_mode_order(kv[0][0]), int(kv[0][1])))
    out = []
    for (mode, face), group in groups:
        values, coverage = {}, {}
        for m in face_metrics():
            if mode not in m.modes:
                continue
            column = (group[m.key].to_numpy(dtype=np.float64) if m.key in group
                      else np.full(len(group), np.nan))
            finite = column[~np.isnan(column)]
            values[m.name] = float(finite.mean()) if finite.size else math.nan
            coverage[m.name] = finite.size / len(column) if len(column) else math.nan
        key = {"source": OUR_SOURCE, "method": run.method, "method_version": run.method_version,
               "benchmark": run.benchmark, "split": "multi", "mode": mode, "protocol": run.protocol,
               "run_by": run.run_by}
        matched = group["matched"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
        out.append(FaceEntry(key=key, face=int(face), items=int(group["item_id"].nunique()),
                             matched=float(matched.mean()), coverage=float(group["coverage"].mean()),
                             values=values, coverage_by_metric=coverage))
    return out


def csv_text(columns: list[str], records: list[dict[str, str]]) -> str:
    """CSV with Unix newlines and minimal quoting: the same records always give the same bytes."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()
