"""Reading ``exprbench eval`` output folders as leaderboard runs.

An eval folder holds ``summary.json`` (per split and mode: counts, coverage, metric values),
``per_item.csv`` (one row per item and face: the per-face detail of the multi split) and
``config.json`` (toolkit version, benchmark, protocol). Protocol v2 summaries also carry the
benchmark's content hash (``benchmark_sha256``) and its ``anchors`` record (null without anchors);
both decide what a row may be ranked against (``exprbench.leaderboard.table.rank``).
Two facts a leaderboard needs are not measured by eval: the method's version and who ran it. They come, first match wins, from

1. an optional ``run.json`` beside ``summary.json``: ``{"method_version": "...", "run_by": "..."}``
   (the run's own record, written by whoever ran it; both keys optional, no other keys allowed);
2. the caller (``--method-version NAME=VER`` / ``--run-by TEXT`` on the command line);
3. defaults: the exprbench version in ``config.json`` (right for the built-in baselines, which ship
   with the toolkit) and ``"unknown"``.

The run's own record wins so that merging runs made by different people cannot relabel them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from exprbench.errors import InputError
from exprbench.protocol import PROTOCOL
from exprbench.scoring.schema import check_summary, read_json_object, read_per_item, read_run_record

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Run:
    """One eval output folder with its identity resolved."""

    folder: Path
    method: str
    method_version: str
    run_by: str
    benchmark: str
    protocol: str
    benchmark_sha256: str | None
    anchors: dict | None
    summary: dict
    per_item: pd.DataFrame

    @property
    def identity(self) -> tuple[str, str, str, str, str, str]:
        """What makes a leaderboard row unique (besides split and mode)."""
        return (self.protocol, self.benchmark, self.benchmark_sha256 or "", self.method, self.method_version,
                self.run_by)


def _check_summary(path: Path, summary: dict) -> None:
    for key in ("method", "benchmark", "protocol", "splits"):
        if key not in summary:
            raise InputError(path, f"has no '{key}'", "re-run 'exprbench eval' with this toolkit")
    check_summary(path, summary)
    if summary["protocol"] != PROTOCOL.version:
        raise InputError(path, f"was scored with protocol {summary['protocol']}, this toolkit publishes "
                               f"protocol {PROTOCOL.version}", "re-run 'exprbench eval' with this toolkit")
    for split, modes in summary["splits"].items():
        for mode, block in modes.items():
            if mode not in ("self", "cross") or not isinstance(block, dict) or "metrics" not in block:
                raise InputError(path, f"split {split!r} mode {mode!r} is malformed")


def _check_ranking_columns(path: Path, frame: pd.DataFrame) -> None:
    """With anchors, every measured metric needs its coverage (lost-face rule) and, if anchored to the static
    baseline, its anchor column: without them the ranking would silently drop or misjudge faces."""
    for m in PROTOCOL.metrics:
        if m.key not in frame:
            continue
        needed = [f"{m.key}_coverage"] + ([f"{m.key}_anchor"] if m.anchor == "static" and m.ranked_modes else [])
        missing = [c for c in needed if c not in frame]
        if missing:
            raise InputError(path, f"lacks column(s) {', '.join(missing)} although summary.json names anchors",
                             "re-run 'exprbench eval' with this toolkit")


def load_run(folder: str | Path, method_versions: Mapping[str, str] | None = None,
             run_by: str | None = None) -> Run:
    """Read one eval output folder; ``method_versions`` (method -> version) and ``run_by`` are used only
    where the folder's ``run.json`` does not say."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder", "pass eval output folders written by 'exprbench eval --out'")
    summary_path = folder / "summary.json"
    summary = read_json_object(summary_path, "summary.json")
    _check_summary(summary_path, summary)
    config = read_json_object(folder / "config.json", "config.json")
    record = read_run_record(folder)
    method = str(summary["method"])
    version = (record.get("method_version") or (method_versions or {}).get(method)
               or str(config.get("exprbench") or UNKNOWN))
    per_item = read_per_item(folder / "per_item.csv")
    anchors = summary.get("anchors") if isinstance(summary.get("anchors"), dict) else None
    if anchors is not None:
        _check_ranking_columns(folder / "per_item.csv", per_item)
    return Run(folder=folder, method=method, method_version=version,
               run_by=record.get("run_by") or run_by or UNKNOWN, benchmark=str(summary["benchmark"]),
               protocol=str(summary["protocol"]), benchmark_sha256=_optional_str(summary.get("benchmark_sha256")),
               anchors=anchors, summary=summary, per_item=per_item)


def _optional_str(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def load_runs(folders: list[str | Path], method_versions: Mapping[str, str] | None = None,
              run_by: str | None = None) -> list[Run]:
    """Read every folder; two folders with the same identity would give two rows with the same key."""
    runs = [load_run(f, method_versions, run_by) for f in folders]
    seen: dict[tuple, Path] = {}
    for run in runs:
        if run.identity in seen:
            raise InputError(run.folder, f"has the same method, version, benchmark and run-by as "
                                         f"{seen[run.identity]}", "give one a different --method-version "
                                                                  "or run.json, or pass only one")
        seen[run.identity] = run.folder
    return runs


def metric_value(entry: object) -> float:
    """A summary metric entry as a float: NaN when missing or unmeasured, +inf for ``"inf"``."""
    value = entry.get("value") if isinstance(entry, dict) else None
    if value is None:
        return math.nan
    if isinstance(value, str):
        return {"inf": math.inf, "-inf": -math.inf}.get(value, math.nan)
    return float(value)
