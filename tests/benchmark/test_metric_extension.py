"""Adding a metric is its module plus its protocol entry, nothing else (issue 15).

The protocol entries are added here (as a new entry in ``exprbench/protocol.py`` would be); the module
``toy_metric.py`` registers itself on import. Eval, which names no metric, must then score both toys on
a real benchmark item and write them to per_item.csv with their coverage, and summary.json must pool them.
"""

import dataclasses
import importlib
import json
import sys

import numpy as np
import pandas as pd
import pytest
from bench_media import copy_truth, static_frames, write_results

from exprbench import protocol
from exprbench.evaluate import EvalOptions, evaluate
from exprbench.metrics import registry
from exprbench.protocol import MetricProtocol

ITEMS = ["single-self-pexels_00s", "single-cross-astronaut"]
_COMMON = dict(needs=("driving",), unit="unitless", extractor="toy", inputs="toy", per_frame="toy",
               per_video="mean over frames", per_split="mean over faces", ideal=0.0)


@pytest.fixture()
def toy_metrics(monkeypatch):
    entries = (MetricProtocol(name="toy_blink", title="Toy blink distance", direction="lower",
                              modes=("self", "cross"), definition="|blink_g - blink_r|", **_COMMON),
               MetricProtocol(name="toy_mad", title="Toy mean absolute difference", direction="lower",
                              modes=("self",), definition="mean |g - r| over pixels", **_COMMON))
    monkeypatch.setattr(protocol, "PROTOCOL",
                        dataclasses.replace(protocol.PROTOCOL, metrics=protocol.PROTOCOL.metrics + entries))
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # the toys leave with the test
    monkeypatch.delitem(sys.modules, "toy_metric", raising=False)
    importlib.import_module("toy_metric")
    return entries


def test_a_new_metric_module_and_protocol_entry_reach_per_item_csv(mini, tmp_path, toy_metrics):
    results = copy_truth(mini, tmp_path / "results")
    write_results(mini, results, "static", lambda it: static_frames(mini, it) if it.id in ITEMS else None)
    frames = {}
    for method in ("truth", "static"):
        out = tmp_path / f"eval-{method}"
        evaluate(mini.root, results, method, out, EvalOptions(items=ITEMS))
        frames[method] = pd.read_csv(out / "per_item.csv").set_index("item_id")
        summary = json.loads((out / "summary.json").read_text())
        assert "toy_blink@v2" in summary["splits"]["single"]["cross"]["metrics"]
        assert "toy_mad@v2" in summary["splits"]["single"]["self"]["metrics"]
        assert "toy_mad@v2" not in summary["splits"]["single"]["cross"]["metrics"]  # a self-only metric
        assert "toy_blink" in json.loads((out / "config.json").read_text())["protocol"]["metrics"]
    truth, static = frames["truth"], frames["static"]
    # the copy of the reference has no error and full coverage; the frozen portrait does not blink along
    for item in ITEMS:
        assert truth.loc[item, "toy_blink@v2"] == pytest.approx(0, abs=1e-9)
        assert truth.loc[item, "toy_blink@v2_coverage"] == 1.0
    assert truth.loc[ITEMS[0], "toy_mad@v2"] == 0.0 and truth.loc[ITEMS[0], "toy_mad@v2_coverage"] == 1.0
    assert static.loc[ITEMS[0], "toy_mad@v2"] > 0.01
    assert static.loc[ITEMS[1], "toy_blink@v2"] > 0
    assert np.isnan(truth.loc[ITEMS[1], "toy_mad@v2"])  # cross item: no paired metric, no column value
    # each toy follows the protocol's own metrics of its kind, in protocol order like every other column
    columns = list(truth.columns)
    assert columns.index("motion@v2") < columns.index("toy_blink@v2") < columns.index("psnr@v2")
    assert columns.index("lpips@v2") < columns.index("toy_mad@v2")
