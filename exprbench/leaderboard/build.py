"""``build_leaderboard``: eval output folders in, the published leaderboard folder out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from exprbench.errors import InputError
from exprbench.files import atomic_write
from exprbench.leaderboard.page import render_html, render_markdown
from exprbench.leaderboard.paper import PAPER_TABLE, load_paper_table
from exprbench.leaderboard.plots import bar_chart, overview
from exprbench.leaderboard.runs import load_runs
from exprbench.leaderboard.table import (
    MODES,
    PAIR_COLUMNS,
    SPLITS,
    csv_text,
    face_columns,
    face_entries,
    leaderboard_columns,
    ordered,
    pair_records,
    paper_entries,
    rank,
    run_entries,
)
from exprbench.leaderboard.validation import load_validation
from exprbench.outdir import OutputFolder, claim
from exprbench.protocol import PROTOCOL
from exprbench.protocol import render_markdown as protocol_markdown


@dataclass(frozen=True)
class Leaderboard:
    """What a build wrote, relative to ``out``, and how many rows each CSV has (paper rows included)."""

    out: Path
    files: tuple[str, ...]
    rows: dict[str, int]


def csv_name(split: str) -> str:
    """``exprbench-v2-single.csv``: the protocol version is in the name, so versions never mix."""
    return f"exprbench-{PROTOCOL.version}-{split}.csv"


FACES_CSV = f"exprbench-{PROTOCOL.version}-faces.csv"
PAIRS_CSV = f"exprbench-{PROTOCOL.version}-pairs.csv"


COMMAND = "exprbench leaderboard"


def _write(folder: OutputFolder, rel: str, data: str | bytes) -> None:
    """Write through a temporary file so a reader never sees half a file; recorded as the builder's."""
    atomic_write(folder.file(rel), data)


def build_leaderboard(runs: Sequence[str | Path], out: str | Path, *,
                      method_versions: Mapping[str, str] | None = None, run_by: str | None = None,
                      paper_table: str | Path | None = PAPER_TABLE, plots: bool = True,
                      validation: str | Path | None = None, force: bool = False) -> Leaderboard:
    """Merge ``exprbench eval`` output folders into ``out``.

    Writes ``exprbench-v2-single.csv`` and ``exprbench-v2-multi.csv`` (one row per method, version,
    benchmark, run-by, split and mode with raw, normalised and interval values, plus the paper's
    Table 1 rows, unranked), ``exprbench-v2-faces.csv`` (per item and face, as the score used it),
    ``exprbench-v2-pairs.csv`` (the paired verdicts behind ranks and ties), ``index.html``,
    ``README.md`` (Markdown tables), ``protocol.md`` and ``plots/*.png``. ``validation``: an
    ``exprbench validate`` report (``validation.csv``) for the page's trust section.
    ``method_versions`` (method -> version) and
    ``run_by`` apply where a run folder's ``run.json`` does not say (see ``exprbench.leaderboard.runs``);
    ``paper_table=None`` leaves the paper's rows out. Files an earlier build wrote and this one does not
    (e.g. an old plot) are removed; every other file is left alone. A non-empty ``out`` that no leaderboard
    build wrote is refused unless ``force`` (``exprbench.outdir``).
    """
    if not runs:
        raise InputError(None, "no eval output folders given", "pass --runs DIR (folders written by 'exprbench eval')")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder", "choose another --out")
    checks = load_validation(validation) if validation is not None else None
    loaded = load_runs(list(runs), method_versions, run_by)
    entries = [e for run in loaded for e in run_entries(run)]
    verdicts = rank(entries)
    if paper_table is not None:
        entries += paper_entries(load_paper_table(paper_table))
    entries = ordered(entries)
    faces = sorted((f for run in loaded for f in face_entries(run)),
                   key=lambda f: (f.key["benchmark"], SPLITS.index(f.key["split"]) if f.key["split"] in SPLITS
                                  else len(SPLITS), f.key["split"], MODES.index(f.key["mode"]), f.key["method"],
                                  f.key["method_version"], f.key["run_by"], f.key["benchmark_sha256"],
                                  f.item_id, f.face))

    files: dict[str, str | bytes] = {}
    rows: dict[str, int] = {}
    for split in SPLITS:
        records = [e.record() for e in entries if e.split == split]
        files[csv_name(split)] = csv_text(leaderboard_columns(), records)
        rows[csv_name(split)] = len(records)
    files[FACES_CSV] = csv_text(face_columns(), [f.record() for f in faces])
    rows[FACES_CSV] = len(faces)
    pairs = pair_records(verdicts)
    files[PAIRS_CSV] = csv_text(list(PAIR_COLUMNS), pairs)
    rows[PAIRS_CSV] = len(pairs)
    csv_files = [csv_name(s) for s in SPLITS] + [FACES_CSV, PAIRS_CSV]

    with claim(out, COMMAND, force=force) as folder:
        figures = _plots(folder, entries) if plots else []
        files["index.html"] = render_html(entries, faces, figures, csv_files, len(loaded), checks)
        files["README.md"] = render_markdown(entries, csv_files, checks)
        files["protocol.md"] = protocol_markdown()
        for name, data in files.items():
            _write(folder, name, data)
        folder.remove_stale()  # e.g. the plot of a split this build has no runs for
    return Leaderboard(out=out, files=tuple(sorted([*files, *(src for src, _ in figures)])), rows=rows)


def _plots(folder: OutputFolder, entries: list) -> list[tuple[str, str]]:
    """Render the PNGs into ``plots/``; returns (relative path, caption) of those drawn."""
    out = folder.path
    figures: list[tuple[str, str]] = []
    if overview(entries, out / "plots" / "overview.png"):
        folder.record("plots/overview.png")
        figures.append(("plots/overview.png", ("Normalised overview: each ranked metric against the "
                                               "benchmark's anchors (0 = the static baseline or the fixed "
                                               "worst value, 1 = ideal, -1 = floor; paper rows excluded).")))
    for split in SPLITS:
        for mode in MODES:
            rel = f"plots/{split}-{mode}.png"
            if bar_chart(entries, split, mode, out / rel):
                folder.record(rel)
                figures.append((rel, f"{split} / {mode}: raw metric values per run."))
    return figures
