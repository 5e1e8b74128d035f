"""Eval output folders (summary.json, per_item.csv, config.json) written to the v2 data contract
(exprbench.anchors, exprbench.scoring.schema), for ranking tests that need exact, chosen numbers.

Real eval outputs (conftest.py) prove the leaderboard reads what eval writes; these prove the ranking
rules on cases real media cannot pin down (a made-up third method, a face with closed eyes, a
mismatched benchmark hash). Summary values are computed from the faces the way eval does: the split
value is the mean over faces with a value, coverage pools the faces, faces_lost counts faces below
``PROTOCOL.coverage.min_coverage``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from exprbench.protocol import PROTOCOL, metric_protocol

SHA = "a" * 64
ANCHORS_SHA = "b" * 64


@dataclass
class Face:
    """One per_item.csv row: ``values`` by metric name (NaN = unmeasured); coverage defaults to 1 for a
    measured value and 0 for an unmeasured one."""

    item: str
    face: int
    values: dict[str, float]
    coverage: dict[str, float] = field(default_factory=dict)

    def coverage_of(self, name: str) -> float:
        if name in self.coverage:
            return self.coverage[name]
        return 0.0 if math.isnan(self.values[name]) else 1.0


def anchors_of(faces: list[Face]) -> dict[tuple[str, int], dict[str, float]]:
    """What 'exprbench anchors' stores from a static run: its per-face values."""
    return {(f.item, f.face): dict(f.values) for f in faces}


def write_run(folder: Path, method: str, blocks: dict[tuple[str, str], list[Face]], *,
              anchors: dict[tuple[str, int], dict[str, float]] | None = None,
              sets: dict[tuple[str, str], dict[str, dict]] | None = None, sha: str = SHA,
              anchors_sha: str = ANCHORS_SHA, items_in_benchmark: dict[tuple[str, str], int] | None = None,
              benchmark: str = "mini") -> Path:
    """Write one eval output folder. ``anchors`` (None: the benchmark has none) maps (item, face) to the
    static baseline's values; ``sets`` maps (split, mode) to set-metric entries (``value``, ``anchor``,
    ``warnings``)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, splits = [], {}
    min_cov = PROTOCOL.coverage.min_coverage
    for (split, mode), faces in blocks.items():
        names = sorted({n for f in faces for n in f.values})
        n_faces = {f.item: sum(1 for g in faces if g.item == f.item) for f in faces}
        for f in faces:
            row = {"item_id": f.item, "split": split, "mode": mode, "face": f.face, "n_faces": n_faces[f.item],
                   "matched": True, "coverage": 1.0}
            for name in names:
                key = metric_protocol(name).key
                row[key] = f.values.get(name, math.nan)
                row[f"{key}_coverage"] = f.coverage_of(name)
                if anchors is not None and metric_protocol(name).anchor == "static":
                    row[f"{key}_anchor"] = anchors.get((f.item, f.face), {}).get(name, math.nan)
            rows.append(row)
        metrics = {}
        for name in names:
            values = [f.values.get(name, math.nan) for f in faces]
            measured = [v for v in values if not math.isnan(v)]
            metrics[metric_protocol(name).key] = {
                "value": (sum(measured) / len(measured)) if measured else None, "n": len(measured),
                "coverage": sum(f.coverage_of(name) for f in faces) / len(faces),
                "faces_lost": sum(1 for f in faces if f.coverage_of(name) < min_cov)}
        for name, entry in ((sets or {}).get((split, mode)) or {}).items():
            metrics[metric_protocol(name).key] = {"value": entry["value"], "network": "stand-in",
                                                  "n_generated": 3, "n_reference": 3,
                                                  "warnings": list(entry.get("warnings", [])),
                                                  "anchor": entry.get("anchor")}
        items = len({f.item for f in faces})
        total = (items_in_benchmark or {}).get((split, mode), items)
        splits.setdefault(split, {})[mode] = {
            "items": items, "items_requested": items, "items_in_benchmark": total, "faces": len(faces),
            "faces_matched": 1.0, "coverage": 1.0, "metrics": metrics}
    summary = {"protocol": PROTOCOL.version, "method": method, "benchmark": benchmark, "benchmark_sha256": sha,
               "anchors": None if anchors is None else {"sha256": anchors_sha, "source": "static",
                                                        "protocol": PROTOCOL.version},
               "splits": splits}
    (folder / "summary.json").write_text(json.dumps(summary, indent=1))
    (folder / "config.json").write_text(json.dumps({"exprbench": "test", "benchmark": benchmark,
                                                    "protocol": PROTOCOL.version}))
    pd.DataFrame(rows).to_csv(folder / "per_item.csv", index=False)
    return folder
