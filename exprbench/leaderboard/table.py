"""Leaderboard rows: one per method, split and mode; ranking v2; the published CSV files.

Ranking (protocol v2, ``PROTOCOL.ranking``, arithmetic in ``exprbench.leaderboard.ranking``): each
ranked metric is normalised against the benchmark's anchors, never against the other rows, so a
row's score depends on its own values only. Rows are ranked together only when they scored the same
benchmark content (``benchmark_sha256``) with the same anchors and protocol, every item of the split
and mode, and the same set of ranked metrics; within a benchmark name, split and mode the largest
such group is ranked and every other row is listed with the reason. Rank = 1 + the number of rows
significantly better by the paired bootstrap; rows whose paired interval contains 0 tie. Paper rows
are never ranked.

Determinism: rows are sorted on their key, floats are written with one fixed format, the bootstrap
is seeded, and nothing depends on paths, clocks or the order runs were given in, so the same runs
give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from exprbench.leaderboard.paper import (
    PAPER_BENCHMARK,
    PAPER_NOTE,
    PAPER_PROTOCOL,
    PAPER_RUN_BY,
    PAPER_SOURCE,
    PaperRow,
)
from exprbench.leaderboard.ranking import (
    TESTED,
    UNTESTED,
    Pair,
    Scoring,
    face_norms,
    is_set_metric,
    rank_group,
    ranked_metrics,
    score_block,
)
from exprbench.leaderboard.runs import Run, metric_value
from exprbench.protocol import PROTOCOL, MetricProtocol

OUR_SOURCE = "exprbench eval"
SPLITS = ("single", "multi")
MODES = ("self", "cross")
KEY_COLUMNS = ("source", "method", "method_version", "benchmark", "benchmark_sha256", "split", "mode", "protocol",
               "run_by")
RANK_COLUMNS = ("rank", "rank_test", "score", "score_ci_low", "score_ci_high", "ties_with", "faces_lost")
COUNT_COLUMNS = ("items", "items_requested", "items_in_benchmark", "faces", "faces_matched", "coverage")
METRIC_SUFFIXES = ("", "_coverage", "_faces_lost", "_norm", "_ci_low", "_ci_high")
TAIL_COLUMNS = ("warnings", "unavailable", "comparability", "note")
FACE_KEY_COLUMNS = ("item_id", "face", "matched", "coverage")
FACE_SUFFIXES = ("", "_coverage", "_anchor", "_norm", "_lost")

NO_ANCHORS = ("unranked: the benchmark has no anchors (run 'exprbench anchors --bench BENCH', then "
              "'exprbench eval' again)")
NO_HASH = "unranked: summary.json has no benchmark_sha256 (re-run 'exprbench eval' with this toolkit)"


def metrics() -> tuple[MetricProtocol, ...]:
    """Every metric of the protocol, in the protocol's (and Table 1's) order."""
    return PROTOCOL.metrics


def face_metrics() -> tuple[MetricProtocol, ...]:
    """Metrics with a value per face (in per_item.csv); set metrics (FID, FVD) pool a whole split."""
    return tuple(m for m in PROTOCOL.metrics if not is_set_metric(m))


def leaderboard_columns() -> list[str]:
    """Columns of ``exprbench-<protocol>-<split>.csv``."""
    cols = [*RANK_COLUMNS, *KEY_COLUMNS, *COUNT_COLUMNS]
    for m in metrics():
        cols += [f"{m.name}{suffix}" for suffix in METRIC_SUFFIXES]
    return cols + list(TAIL_COLUMNS)


def face_columns() -> list[str]:
    """Columns of ``exprbench-<protocol>-faces.csv``: one row per run, split, mode, item and face."""
    cols = [*KEY_COLUMNS, *FACE_KEY_COLUMNS]
    for m in face_metrics():
        cols += [f"{m.name}{suffix}" for suffix in FACE_SUFFIXES]
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


@dataclass(eq=False)
class Entry:
    """One leaderboard row. ``values`` holds the raw metrics that apply to the row's mode (NaN:
    unmeasured), ``norm`` the normalised ones that count in the score; ``printed`` holds the paper's
    text for paper rows."""

    source: str
    method: str
    method_version: str
    benchmark: str
    split: str
    mode: str
    protocol: str
    run_by: str
    values: dict[str, float]
    benchmark_sha256: str = ""
    anchors_sha256: str = ""
    coverage_by_metric: dict[str, float] = field(default_factory=dict)
    faces_lost_by_metric: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    norm: dict[str, float] = field(default_factory=dict)
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    printed: dict[str, str] = field(default_factory=dict)
    items: int | None = None
    items_requested: int | None = None
    items_in_benchmark: int | None = None
    faces: int | None = None
    faces_matched: float | None = None
    coverage: float | None = None
    unavailable: tuple[str, ...] = ()
    note: str = ""
    comparability: str = ""
    scoring: Scoring | None = None
    score: float = math.nan
    score_ci: tuple[float, float] = (math.nan, math.nan)
    rank: int | None = None
    rank_test: str = ""
    ties_with: tuple[str, ...] = ()

    @property
    def is_paper(self) -> bool:
        return self.source == PAPER_SOURCE

    @property
    def board(self) -> tuple[str, str, str]:
        """Rows of one board (benchmark name, split, mode) are shown together; ranked only if comparable."""
        return (self.benchmark, self.split, self.mode)

    @property
    def label(self) -> str:
        return f"{self.method} {self.method_version} ({self.run_by})"

    @property
    def faces_lost(self) -> int | None:
        """Lost (face, metric) pairs over the mode's ranked metrics: each one scored -1."""
        lost = [self.faces_lost_by_metric[m.name] for m in ranked_metrics(self.mode)
                if m.name in self.faces_lost_by_metric]
        return sum(lost) if lost else None

    def cell(self, name: str) -> str:
        """A metric's published text: as printed for the paper, the fixed format for ours."""
        if name in self.printed:
            return self.printed[name]
        return fmt(self.values.get(name))

    def record(self) -> dict[str, str]:
        row = {"rank": fmt(self.rank), "rank_test": self.rank_test, "score": fmt(self.score),
               "score_ci_low": fmt(self.score_ci[0]), "score_ci_high": fmt(self.score_ci[1]),
               "ties_with": ";".join(self.ties_with), "faces_lost": fmt(self.faces_lost)}
        row.update({c: getattr(self, c) for c in KEY_COLUMNS})
        row.update({c: fmt(getattr(self, c)) for c in COUNT_COLUMNS})
        for m in metrics():
            lo, hi = self.ci.get(m.name, (None, None))
            row.update({m.name: self.cell(m.name), f"{m.name}_coverage": fmt(self.coverage_by_metric.get(m.name)),
                        f"{m.name}_faces_lost": fmt(self.faces_lost_by_metric.get(m.name)),
                        f"{m.name}_norm": fmt(self.norm.get(m.name)), f"{m.name}_ci_low": fmt(lo),
                        f"{m.name}_ci_high": fmt(hi)})
        row.update({"warnings": warnings_text(self.warnings), "unavailable": ";".join(self.unavailable),
                    "comparability": self.comparability, "note": self.note})
        return row


def warnings_text(warnings: dict[str, tuple[str, ...]]) -> str:
    """``fvd: fewer than 100 videos; ...``: a set metric's warnings travel with its number."""
    return "; ".join(f"{name}: {w}" for name in sorted(warnings) for w in warnings[name])


def _mode_metrics(mode: str) -> list[MetricProtocol]:
    return [m for m in metrics() if mode in m.modes]


def _rows_of(run: Run, split: str, mode: str) -> pd.DataFrame:
    frame = run.per_item
    return frame[(frame["split"] == split) & (frame["mode"] == mode)]


def _int(value: object) -> int | None:
    return None if value is None else int(value)


def run_entries(run: Run) -> list[Entry]:
    """One entry per split and mode the run scored, with its normalised values when it has anchors."""
    unavailable_keys = set(run.summary.get("unavailable") or {})
    anchors_sha = str((run.anchors or {}).get("sha256") or "")
    entries = []
    for split, modes in sorted(run.summary["splits"].items()):
        for mode, block in sorted(modes.items()):
            values, coverage, lost, warns = {}, {}, {}, {}
            for m in _mode_metrics(mode):
                entry = block["metrics"].get(m.key)
                values[m.name] = metric_value(entry)
                if not isinstance(entry, dict):
                    continue
                if entry.get("coverage") is not None:
                    coverage[m.name] = float(entry["coverage"])
                if entry.get("faces_lost") is not None:
                    lost[m.name] = int(entry["faces_lost"])
                if entry.get("warnings"):
                    warns[m.name] = tuple(str(w) for w in entry["warnings"])
            e = Entry(
                source=OUR_SOURCE, method=run.method, method_version=run.method_version,
                benchmark=run.benchmark, benchmark_sha256=run.benchmark_sha256 or "", anchors_sha256=anchors_sha,
                split=split, mode=mode, protocol=run.protocol, run_by=run.run_by, values=values,
                coverage_by_metric=coverage, faces_lost_by_metric=lost, warnings=warns,
                items=int(block.get("items", 0)), items_requested=int(block.get("items_requested", 0)),
                items_in_benchmark=_int(block.get("items_in_benchmark")), faces=int(block.get("faces", 0)),
                faces_matched=float(block.get("faces_matched", math.nan)),
                coverage=float(block.get("coverage", math.nan)),
                unavailable=tuple(m.name for m in _mode_metrics(mode) if m.key in unavailable_keys))
            if run.anchors is not None:
                _score_entry(e, score_block(mode, _rows_of(run, split, mode), block))
            entries.append(e)
    return entries


def _score_entry(e: Entry, scoring: Scoring) -> None:
    e.scoring = scoring
    e.norm = {k: v for k, v in scoring.norms().items() if not math.isnan(v)}
    for name, f in scoring.face.items():
        e.faces_lost_by_metric[name] = f.faces_lost  # the rule as the score applies it
    e.score = scoring.score()
    if len(scoring.items) >= PROTOCOL.ranking.min_items_for_ci:
        e.ci = {name: scoring.raw_interval(name) for name in scoring.face}
        if not math.isnan(e.score):
            e.score_ci = scoring.score_interval()


def paper_entries(rows: list[PaperRow]) -> list[Entry]:
    return [Entry(source=PAPER_SOURCE, method=r.method, method_version="", benchmark=PAPER_BENCHMARK,
                  split=r.split, mode=r.mode, protocol=PAPER_PROTOCOL, run_by=PAPER_RUN_BY,
                  values={k: float(v) for k, v in r.values.items()}, printed=dict(r.values), note=PAPER_NOTE)
            for r in rows]


def _unranked_reason(e: Entry) -> str:
    if e.scoring is None:
        return NO_ANCHORS
    if not e.benchmark_sha256:
        return NO_HASH
    if e.items_in_benchmark is None or e.items != e.items_in_benchmark:
        total = "?" if e.items_in_benchmark is None else str(e.items_in_benchmark)
        return f"unranked: scored {e.items} of {total} items of the split and mode (rank needs all of them)"
    if math.isnan(e.score):
        return "unranked: no ranked metric could be normalised"
    return ""


def _comparison_key(e: Entry) -> tuple:
    assert e.scoring is not None
    return (e.protocol, e.benchmark_sha256, e.anchors_sha256, tuple(sorted(e.scoring.norms())))


def _apart_reason(key: tuple, main: tuple) -> str:
    parts = []
    if key[0] != main[0]:
        parts.append(f"protocol {key[0]} vs {main[0]}")
    if key[1] != main[1]:
        parts.append(f"benchmark content differs (sha256 {key[1][:12]} vs {main[1][:12]})")
    if key[2] != main[2]:
        parts.append(f"anchors differ (sha256 {key[2][:12]} vs {main[2][:12]})")
    if key[3] != main[3]:
        lacks, extra = sorted(set(main[3]) - set(key[3])), sorted(set(key[3]) - set(main[3]))
        parts.append("ranked metrics differ" + (f": lacks {', '.join(lacks)}" if lacks else "")
                     + (f"; has {', '.join(extra)}" if extra else ""))
    return "listed apart, not comparable with the ranked rows: " + "; ".join(parts)


def rank(entries: list[Entry]) -> list[tuple[Entry, Entry, Pair]]:
    """Set rank, ties and comparability of our entries (see the module docstring); returns the
    paired verdicts of the ranked rows, each unordered pair once."""
    boards: dict[tuple, list[Entry]] = {}
    for e in entries:
        if e.is_paper:
            continue
        reason = _unranked_reason(e)
        if reason:
            e.comparability = reason
            continue
        boards.setdefault(e.board, []).append(e)
    verdicts: list[tuple[Entry, Entry, Pair]] = []
    for members in boards.values():
        groups: dict[tuple, list[Entry]] = {}
        for e in members:
            groups.setdefault(_comparison_key(e), []).append(e)
        main = min(groups, key=lambda k: (-len(groups[k]), k))
        for key, group in groups.items():
            if key != main:
                for e in group:
                    e.comparability = _apart_reason(key, main)
        ranked = sorted(groups[main], key=lambda e: (e.method, e.method_version, e.run_by))
        ranks, pairs = rank_group([e.scoring for e in ranked])  # type: ignore[misc]
        test = TESTED if len(ranked[0].scoring.items) >= PROTOCOL.ranking.min_items_for_ci else UNTESTED
        n_items = len(ranked[0].scoring.items)
        for k, (e, r) in enumerate(zip(ranked, ranks)):
            e.rank, e.rank_test = r, test
            e.ties_with = tuple(ranked[p.b].label for p in pairs if p.a == k and
                                (not p.significant if p.tested else round(p.difference, 9) == 0))
            e.comparability = (f"ranked ({len(ranked)} rows, {n_items} items; benchmark {key_short(main[1])}, "
                               f"anchors {key_short(main[2])})")
        verdicts += [(ranked[p.a], ranked[p.b], p) for p in pairs if p.a < p.b]
    return verdicts


def key_short(sha: str) -> str:
    return sha[:12]


def _mode_order(mode: str) -> int:
    return MODES.index(mode) if mode in MODES else len(MODES)


def sort_key(e: Entry) -> tuple:
    """Ours first (by benchmark, split, mode; ranked rows by rank, then the rest), then the paper's rows in
    the paper's order."""
    mode, split = _mode_order(e.mode), SPLITS.index(e.split) if e.split in SPLITS else len(SPLITS)
    if e.is_paper:
        return (1, "", split, mode, 0, 0.0, "")
    score = -round(e.score, 9) if not math.isnan(e.score) else math.inf
    return (0, e.benchmark, split, mode, e.rank if e.rank is not None else 10**9, score, e.method,
            e.method_version, e.run_by, e.benchmark_sha256)


def ordered(entries: list[Entry]) -> list[Entry]:
    """Stable sort: paper rows keep the order they were given in."""
    return sorted(entries, key=sort_key)


PAIR_COLUMNS = ("benchmark", "split", "mode", "method_a", "method_version_a", "run_by_a", "method_b",
                "method_version_b", "run_by_b", "score_a", "score_b", "difference", "ci_low", "ci_high", "verdict")


def pair_records(verdicts: list[tuple[Entry, Entry, Pair]]) -> list[dict[str, str]]:
    """``exprbench-<protocol>-pairs.csv``: every paired verdict behind the ranks and ties."""
    out = []
    for a, b, p in verdicts:
        if not p.tested:
            verdict = "untested (too few items)"
        elif p.significant:
            verdict = "a better" if p.ci_low > 0 else "b better"
        else:
            verdict = "tie"
        out.append({"benchmark": a.benchmark, "split": a.split, "mode": a.mode, "method_a": a.method,
                    "method_version_a": a.method_version, "run_by_a": a.run_by, "method_b": b.method,
                    "method_version_b": b.method_version, "run_by_b": b.run_by, "score_a": fmt(a.score),
                    "score_b": fmt(b.score), "difference": fmt(p.difference), "ci_low": fmt(p.ci_low),
                    "ci_high": fmt(p.ci_high), "verdict": verdict})
    return sorted(out, key=lambda r: (r["benchmark"], SPLITS.index(r["split"]), _mode_order(r["mode"]),
                                      r["method_a"], r["method_version_a"], r["method_b"], r["method_version_b"]))


@dataclass
class FaceEntry:
    """One face of one item of one run, split and mode: raw values, coverage, anchor, normalised value and
    the lost-face flag, exactly as the score used them."""

    key: dict[str, str]
    item_id: str
    face: int
    matched: str
    coverage: float
    cells: dict[str, float | bool | None]

    @property
    def mode(self) -> str:
        return self.key["mode"]

    def record(self) -> dict[str, str]:
        row = dict(self.key)
        row.update({"item_id": self.item_id, "face": fmt(self.face), "matched": self.matched,
                    "coverage": fmt(self.coverage)})
        for m in face_metrics():
            for suffix in FACE_SUFFIXES:
                row[f"{m.name}{suffix}"] = fmt(self.cells.get(f"{m.name}{suffix}"))
        return row


def _matched(value: object) -> str:
    return "1" if str(value).strip().lower() in ("true", "1") else "0"


def face_entries(run: Run) -> list[FaceEntry]:
    """One entry per row of per_item.csv (every split), with the normalisation of the ranked metrics."""
    out = []
    for (split, mode), rows in sorted(run.per_item.groupby(["split", "mode"]),
                                      key=lambda kv: (kv[0][0], _mode_order(kv[0][1]))):
        ranked = {m.name for m in ranked_metrics(mode)} if run.anchors is not None else set()
        rows = rows.sort_values(["item_id", "face"], kind="stable")
        cells: list[dict] = [{} for _ in range(len(rows))]
        for m in face_metrics():
            if mode not in m.modes:
                continue
            value = pd.to_numeric(rows[m.key], errors="coerce") if m.key in rows else None
            cov = pd.to_numeric(rows[f"{m.key}_coverage"], errors="coerce") if f"{m.key}_coverage" in rows else None
            anc = pd.to_numeric(rows[f"{m.key}_anchor"], errors="coerce") if f"{m.key}_anchor" in rows else None
            norms = face_norms(m, rows) if m.name in ranked and value is not None else None
            for k in range(len(rows)):
                c = cells[k]
                c[m.name] = None if value is None else float(value.iloc[k])
                c[f"{m.name}_coverage"] = None if cov is None else float(cov.iloc[k])
                c[f"{m.name}_anchor"] = None if anc is None else float(anc.iloc[k])
                if norms is not None and bool(norms.faces["used"].iloc[k]):
                    c[f"{m.name}_norm"] = float(norms.faces["n"].iloc[k])
                    c[f"{m.name}_lost"] = bool(norms.faces["lost"].iloc[k])
        key = {"source": OUR_SOURCE, "method": run.method, "method_version": run.method_version,
               "benchmark": run.benchmark, "benchmark_sha256": run.benchmark_sha256 or "", "split": str(split),
               "mode": str(mode), "protocol": run.protocol, "run_by": run.run_by}
        for k, (_, row) in enumerate(rows.iterrows()):
            out.append(FaceEntry(key=key, item_id=str(row["item_id"]), face=int(row["face"]),
                                 matched=_matched(row["matched"]), coverage=float(row["coverage"]), cells=cells[k]))
    return out


def csv_text(columns: list[str], records: list[dict[str, str]]) -> str:
    """CSV with Unix newlines and minimal quoting: the same records always give the same bytes."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()
