"""summary.json's numbers: per split and mode, each metric pooled over the split's faces or videos.

Face and paired metrics: the mean of the per-face values (NaN skipped), the frame-weighted coverage and
how many faces fall below the protocol's coverage floor. Set metrics: one Frechet distance per split
from the features of all its self-mode items, in item order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from exprbench.benchmark.manifest import Item
from exprbench.metrics import all_metrics, get_metric
from exprbench.protocol import PROTOCOL
from exprbench.scoring.instances import metric_instance
from exprbench.scoring.options import EvalOptions, ItemOutcome


def metric_block(group: pd.DataFrame, key: str) -> dict:
    """A face or paired metric over a split's faces: the mean of the per-face values (NaN skipped), the
    frame-weighted coverage and how many faces fall below the protocol's coverage floor."""
    values = group[key].to_numpy(dtype=np.float64)
    finite = values[~np.isnan(values)]
    cover = group[f"{key}_coverage"].to_numpy(dtype=np.float64)
    frames = group["frames"].to_numpy(dtype=np.float64)
    return {"value": float(finite.mean()) if finite.size else None, "n": int(finite.size),
            "coverage": float((cover * frames).sum() / frames.sum()) if frames.sum() else 0.0,
            "faces_lost": int((cover < PROTOCOL.coverage.min_coverage).sum())}


def set_scores(set_available: Sequence[str], items: Sequence[Item], outcomes: Sequence[ItemOutcome],
               options: EvalOptions) -> dict[str, dict]:
    """``{split: {key: entry}}``: each available set metric over each split's items, features added in
    item order (the pooled float64 statistics then do not depend on how items were scheduled)."""
    scores: dict[str, dict] = {}
    for name in set_available:
        metric = metric_instance(name, options.device, options.batch_size)
        for split in sorted({i.split for i in items}):
            metric.reset()
            split_ids = {i.id for i in items if i.split == split}
            for outcome in outcomes:
                if outcome.item_id in split_ids and name in outcome.features:
                    for side in ("generated", "reference"):
                        for features in outcome.features[name][side]:
                            metric.add_features(side, features)
            if metric.videos["generated"]:
                score = metric.compute()
                scores.setdefault(split, {})[get_metric(name).key] = {
                    "value": score.value, "network": score.network, "n_generated": score.n_generated,
                    "n_reference": score.n_reference, "warnings": list(score.warnings)}
    return scores


def summarise(frame: pd.DataFrame, sets: Mapping[str, dict], unavailable: dict, errors: dict,
              n_items: Mapping[tuple[str, str], int], in_benchmark: Mapping[tuple[str, str], int]) -> dict:
    """The summary's per-split blocks: items, faces, coverage and every metric of the mode."""
    summary: dict = {"protocol": PROTOCOL.version, "splits": {}, "unavailable": unavailable, "errors": errors}
    for (split, mode), group in frame.groupby(["split", "mode"], sort=True) if len(frame) else []:
        block = {"items": int(group["item_id"].nunique()), "faces": int(len(group)),
                 "items_requested": n_items.get((split, mode), 0),
                 "items_in_benchmark": in_benchmark.get((split, mode), 0),
                 "coverage": float(group["coverage"].mean()), "faces_matched": float(group["matched"].mean()),
                 "metrics": {}}
        for key in (m.key for m in all_metrics() if mode in m.modes):
            if key in group:
                block["metrics"][key] = metric_block(group, key)
        for key, score in sets.get(split, {}).items():
            if mode == "self":
                block["metrics"][key] = score
        summary["splits"].setdefault(split, {})[mode] = block
    return summary
