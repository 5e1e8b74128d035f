"""Leaderboard plots (matplotlib, Agg): per-metric bars per split and mode, and an overview of the
normalised values the ranking uses (against the benchmark's anchors, so a colour means the same on
every board).

Figures are built with ``matplotlib.figure.Figure`` (Agg canvas, no pyplot), so building a leaderboard
never touches the caller's backend or global figure state. Only our rows are plotted: the paper's
numbers come from unnamed extractors, so a bar beside ours
would invite exactly the comparison the page warns against. PNGs are written without the software
tag and with a fixed size and dpi, so the same rows give the same bytes.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from exprbench.files import atomic_path
from exprbench.leaderboard.ranking import ranked_metrics
from exprbench.leaderboard.table import MODES, SPLITS, Entry, display, metrics
from exprbench.protocol import PROTOCOL, MetricProtocol

_COLOURS = ("#3b6ea8", "#e08a2c", "#4f9a5c", "#b5485d", "#7a5ea8", "#8a7a52", "#d16fae", "#5e5e5e")
_STYLE = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "axes.titlesize": 10,
          "axes.titleweight": "bold"}


def arrow(direction: str) -> str:
    """↓ lower is better, ↑ higher is better."""
    return "\u2193" if direction == "lower" else "\u2191"


def label(e: Entry, with_benchmark: bool) -> str:
    text = f"{e.method} {e.method_version}"
    return f"{text} ({e.benchmark})" if with_benchmark else text


def _measured(names: list[MetricProtocol], rows: list[Entry]) -> tuple[list[MetricProtocol], list[str]]:
    """Metrics with a value for at least one row, and the names of the others (e.g. FID without weights)."""
    kept = [m for m in names if any(not math.isnan(e.values.get(m.name, math.nan)) for e in rows)]
    return kept, [m.name.upper() for m in names if m not in kept]


def _not_measured(missing: list[str]) -> str:
    return f" (not measured: {', '.join(missing)})" if missing else ""


def _save(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png", metadata={"Software": None})


def bar_chart(entries: list[Entry], split: str, mode: str, path: Path) -> bool:
    """One panel per metric of the mode, one bar per row; returns False (nothing written) without rows."""
    rows = [e for e in entries if not e.is_paper and e.split == split and e.mode == mode]
    if not rows:
        return False
    names, missing = _measured([m for m in metrics() if mode in m.modes], rows)
    if not names:
        return False
    with_benchmark = len({e.benchmark for e in rows}) > 1
    labels = [label(e, with_benchmark) for e in rows]
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(3.6 * cols, 0.5 + (0.9 + 0.32 * len(rows)) * nrows), layout="constrained")
        axes = fig.subplots(nrows, cols, squeeze=False)
        for ax, m in zip(axes.flat, names):
            values = np.array([e.values.get(m.name, math.nan) for e in rows], dtype=np.float64)
            finite = values[np.isfinite(values)]
            top = float(finite.max()) if finite.size else 1.0
            top = top if top > 0 else 1.0
            shown = np.where(np.isinf(values), top * 1.05, np.nan_to_num(values, nan=0.0))
            y = np.arange(len(rows))[::-1]
            ax.barh(y, shown, color=[_COLOURS[i % len(_COLOURS)] for i in range(len(rows))], height=0.6)
            for yi, v, s in zip(y, values, shown):
                text = "not measured" if math.isnan(v) else ("inf (identical)" if math.isinf(v) else display(v))
                ax.text(max(s, 0.0), yi, f" {text}", va="center", fontsize=8)
            ax.set_yticks(y, labels)
            ax.set_xlim(min(0.0, float(shown.min())) * 1.1, max(top, float(shown.max())) * 1.45)
            ax.set_title(f"{m.name.upper()} {arrow(m.direction)}")
            ax.set_xlabel(m.unit, fontsize=7)
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        fig.suptitle(f"{split} / {mode}: raw values (protocol {PROTOCOL.version}){_not_measured(missing)}", fontsize=10)
        _save(fig, path)
    return True


def overview(entries: list[Entry], path: Path) -> bool:
    """Heatmap per split and mode of the normalised ranked metrics (1 = ideal, 0 = anchor, -1 = floor)."""
    ours = [e for e in entries if not e.is_paper and e.norm]
    panels = [(s, m) for s in SPLITS for m in MODES if any(e.split == s and e.mode == m for e in ours)]
    if not panels:
        return False
    with_benchmark = len({e.benchmark for e in ours}) > 1
    n_rows = max(sum(1 for e in ours if (e.split, e.mode) == p) for p in panels)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(8.0, 0.4 + len(panels) * (0.9 + 0.38 * n_rows)), layout="constrained")
        axes = fig.subplots(len(panels), 1, squeeze=False)
        image = None
        for ax, (split, mode) in zip(axes[:, 0], panels):
            rows = [e for e in ours if e.split == split and e.mode == mode]
            names = [m for m in ranked_metrics(mode) if any(m.name in e.norm for e in rows)]
            grid = np.array([[e.norm.get(m.name, math.nan) for m in names] for e in rows], dtype=np.float64)
            image = ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", vmin=-1.0, vmax=1.0, aspect="auto")
            ax.set_facecolor("#dddddd")
            for r in range(grid.shape[0]):
                for c in range(grid.shape[1]):
                    v = grid[r, c]
                    ax.text(c, r, "n/a" if math.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=8,
                            color="black")
            ax.set_xticks(range(len(names)), [f"{m.name.upper()} {arrow(m.direction)}" for m in names])
            ax.set_yticks(range(len(rows)), [f"{label(e, with_benchmark)} ({_rank_label(e)}, score {e.score:.3f})"
                                             for e in rows])
            ax.set_title(f"{split} / {mode}", loc="left")
            ax.tick_params(length=0)
            for side in ax.spines.values():
                side.set_visible(False)
        fig.colorbar(image, ax=axes[:, 0].tolist(), shrink=0.8, label="1 ideal, 0 anchor, -1 floor")
        fig.suptitle("Normalised against the benchmark's anchors (static baseline or fixed worst value)", fontsize=10)
        _save(fig, path)
    return True


def _rank_label(e: Entry) -> str:
    if e.rank is None:
        return "unranked"
    return f"rank {e.rank}{'=' if e.ties_with else ''}"
