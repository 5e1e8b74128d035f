"""Protocol v2 in ``exprbench eval`` on the real mini benchmark: relative motion, the motion gain,
csim_gap, frame coverage and the benchmark's anchors."""

import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest
from bench_media import copy_truth, static_frames, write_results

from exprbench.anchors import (
    anchors_from_eval,
    anchors_name,
    benchmark_sha256,
    load_anchors,
    write_anchors,
)
from exprbench.benchmark import load_benchmark
from exprbench.errors import InputError
from exprbench.evaluate import EvalOptions, evaluate
from exprbench.metrics.face_base import covered
from exprbench.protocol import PROTOCOL

CROSS = ["single-cross-astronaut", "single-cross-man_first"]  # the driving video is a perfect output
SELF = ["single-self-man", "multi-self-pair_woman_man"]


@pytest.fixture(scope="module")
def v2(mini, tmp_path_factory):
    """A copy of the mini benchmark with static anchors; static (every item) and truth copies scored."""
    root = tmp_path_factory.mktemp("v2")
    shutil.copytree(mini.root, root / "bench")
    bench = load_benchmark(root / "bench")
    results = root / "results"
    copy_truth(bench, results)
    write_results(bench, results, "static", lambda it: static_frames(bench, it))
    evaluate(bench.root, results, "static", root / "eval-static")  # every item: anchors need them all
    write_anchors(bench, root / "eval-static")
    evaluate(bench.root, results, "truth", root / "eval-truth", EvalOptions(items=CROSS + SELF))
    read = {m: (json.loads((root / f"eval-{m}" / "summary.json").read_text()),
                pd.read_csv(root / f"eval-{m}" / "per_item.csv")) for m in ("static", "truth")}
    return bench, results, root, read


def _rows(frame, items):
    return frame[frame.item_id.isin(items)]


def test_perfect_motion_scores_ideal_in_cross_mode(v2):
    """The driving video itself as the output: relative expression, pose and gaze errors are 0, the
    motion gain is 1, every frame covered."""
    _, _, _, read = v2
    rows = _rows(read["truth"][1], CROSS)
    assert len(rows) == 2
    for key in ("aed@v2", "apd@v2"):
        assert np.allclose(rows[key], 0, atol=1e-6) and (rows[f"{key}_coverage"] == 1).all()
    assert np.allclose(rows["mae@v2"].dropna(), 0, atol=1e-3)
    assert np.allclose(rows["motion@v2"], 1, atol=1e-6)


def test_doing_nothing_fails_motion_and_relative_expression(v2):
    _, _, _, read = v2
    static, truth = read["static"][1], read["truth"][1]
    motion = static["motion@v2"].dropna()
    assert len(motion) >= 10 and motion.mean() < 0.1
    # single faces (whole-frame analysis) do not move at all; multi faces analysed in followed crops show the
    # analyser's own jitter on a frozen portrait (measured up to 0.25 on these 16-frame clips, 0.05 at 50)
    assert (static.loc[static.n_faces == 1, "motion@v2"].dropna() < 0.05).all()
    for item in CROSS:
        s, t = _rows(static, [item]), _rows(truth, [item])
        assert (s["aed@v2"].to_numpy() > t["aed@v2"].to_numpy() + 0.02).all()
        # the labelled v1 extra stays computable and is a different number (absolute blendshapes)
        assert not np.allclose(s["aed_abs@v2"], s["aed@v2"])


def test_csim_gap_is_zero_for_the_ground_truth_and_not_for_a_copy(v2):
    _, _, _, read = v2
    truth, static = _rows(read["truth"][1], SELF), _rows(read["static"][1], SELF)
    assert np.allclose(truth["csim_gap@v2"], 0, atol=1e-9)
    assert (static["csim_gap@v2"] > 0.002).all()  # copying the portrait is "too similar" (0.004-0.011 here)


def test_anchors_are_the_static_scores_and_travel_with_every_eval(v2):
    bench, _, root, read = v2
    anchors = load_anchors(bench)
    assert anchors["benchmark_sha256"] == benchmark_sha256(bench) and anchors["protocol"] == PROTOCOL.version
    static_keys = [m.key for m in PROTOCOL.metrics if m.anchor == "static" and not m.extra]
    for name in ("static", "truth"):
        summary, frame = read[name]
        assert summary["anchors"]["sha256"] == anchors["sha256"]
        assert summary["benchmark_sha256"] == anchors["benchmark_sha256"]
        for key in static_keys:
            if key in frame:
                assert f"{key}_anchor" in frame
    static = read["static"][1]
    for key in ("aed@v2", "lmd@v2", "psnr@v2", "mae@v2"):
        np.testing.assert_allclose(static[f"{key}_anchor"], static[key], rtol=1e-5, equal_nan=True)
    truth = read["truth"][1].merge(static, on=["item_id", "face"], suffixes=("", "_s"))
    np.testing.assert_allclose(truth["aed@v2_anchor"], truth["aed@v2_s"], rtol=1e-5, equal_nan=True)
    blocks = read["truth"][0]["splits"]
    assert blocks["single"]["self"]["items_in_benchmark"] == sum(
        1 for i in bench.items if (i.split, i.mode) == ("single", "self"))


def test_anchors_refuse_the_wrong_eval(v2):
    bench, _, root, _ = v2
    with pytest.raises(InputError, match="anchors come from 'static'"):
        anchors_from_eval(bench, root / "eval-truth")


@pytest.mark.parametrize(("field", "value", "says"), [
    ("faces", "every face", "field faces must be an object"),
    ("faces", {"x#0": {"lmd@v2": "0.1"}}, "field faces.x#0.lmd@v2 must be a finite number"),
    ("faces", {"x#0": {"lmd@v2": float("nan")}}, "field faces.x#0.lmd@v2 must be a finite number"),
    ("sets", {"single": 3}, "field sets.single must be an object"),
    ("source", None, "field source must be a string"),
])
def test_hand_edited_anchors_are_refused_by_field(v2, tmp_path, field, value, says):
    """The anchors file sits in the benchmark folder, where anyone can edit it: a damaged value is one line
    naming the file and the field, never a traceback in eval or a wrong ranking."""
    bench, _, _, _ = v2
    shutil.copytree(bench.root, tmp_path / "bench")
    path = tmp_path / "bench" / anchors_name()
    record = json.loads(path.read_text())
    record[field] = value
    path.write_text(json.dumps(record))
    with pytest.raises(InputError, match=says) as caught:
        load_anchors(load_benchmark(tmp_path / "bench"))
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_stale_anchors_leave_the_run_unranked_with_a_warning(v2, tmp_path, caplog):
    bench, results, _, _ = v2
    shutil.copytree(bench.root, tmp_path / "bench")
    manifest = tmp_path / "bench" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["description"] = "changed after the anchors were computed"
    manifest.write_text(json.dumps(data))
    changed = load_benchmark(tmp_path / "bench")
    with pytest.raises(InputError, match="content hash differs"):
        load_anchors(changed)
    with caplog.at_level(logging.WARNING):
        summary = evaluate(changed.root, results, "truth", tmp_path / "ev", EvalOptions(items=["single-self-man"]))
    assert summary["anchors"] is None and (tmp_path / "bench" / anchors_name()).is_file()
    assert any("unranked" in r.message for r in caplog.records)
    assert not any(c.endswith("_anchor") for c in pd.read_csv(tmp_path / "ev" / "per_item.csv").columns)


def test_coverage_counts_only_frames_where_the_reference_has_a_value():
    measured = np.array([1, 1, 0, 0, 1, 0], bool)
    reference = np.array([1, 1, 1, 0, 0, 0], bool)  # the driver's eyes are closed in the last three frames
    assert covered(measured, reference) == pytest.approx(2 / 3)
    assert covered(measured, np.zeros(6, bool)) == 0.0
