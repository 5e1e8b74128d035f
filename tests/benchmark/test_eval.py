"""``exprbench eval`` on the real mini benchmark: sanity, degradation, multi-face NaN, determinism."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from bench_media import copy_truth, static_frames, truth_frames, write_results
from scipy.ndimage import gaussian_filter

from exprbench.evaluate import EvalOptions, evaluate

SINGLE = ["single-self-pexels_00s", "single-self-man", "single-cross-astronaut", "single-cross-pexels_00s_first"]
PAIR = "multi-self-pair_woman_man"


@pytest.fixture(scope="module")
def runs(mini, tmp_path_factory):
    """Truth copies, blurred truth, frame-shifted truth and a static portrait, scored on the same items."""
    results = tmp_path_factory.mktemp("results")
    copy_truth(mini, results)
    write_results(mini, results, "blur", lambda it: np.stack(
        [gaussian_filter(f, sigma=(2.5, 2.5, 0)) for f in truth_frames(mini, it)]))
    write_results(mini, results, "shift", lambda it: np.concatenate(
        [truth_frames(mini, it)[4:], np.repeat(truth_frames(mini, it)[-1:], 4, axis=0)]))
    write_results(mini, results, "static", lambda it: static_frames(mini, it))
    out = {}
    for method in ("truth", "blur", "shift", "static"):
        summary = evaluate(mini.root, results, method, results.parent / f"eval-{method}",
                           EvalOptions(items=SINGLE + [PAIR]))
        frame = pd.read_csv(results.parent / f"eval-{method}" / "per_item.csv")
        out[method] = (summary, frame)
    return results, out


def _value(frame, item, key, face=0):
    row = frame[(frame.item_id == item) & (frame.face == face)]
    return float(row[key].iloc[0])


def test_truth_scored_against_itself(runs):
    _, out = runs
    summary, frame = out["truth"]
    block = summary["splits"]["single"]["self"]["metrics"]
    assert block["psnr@v2"]["value"] == "inf" or block["psnr@v2"]["value"] == float("inf")
    assert block["lpips@v2"]["value"] == pytest.approx(0, abs=1e-6)
    assert block["ssim@v2"]["value"] == pytest.approx(1, abs=1e-4)
    assert block["lmd@v2"]["value"] == pytest.approx(0, abs=1e-9)
    assert block["mae@v2"]["value"] == pytest.approx(0, abs=1e-3)
    cross = summary["splits"]["single"]["cross"]["metrics"]  # result = the driving video itself
    assert cross["aed@v2"]["value"] == pytest.approx(0, abs=1e-9)
    assert cross["apd@v2"]["value"] == pytest.approx(0, abs=1e-6)
    assert summary["unavailable"].keys() == {"fid@v2", "fvd@v2"}
    assert "exprbench assets fetch fid_inception" in summary["unavailable"]["fid@v2"]


@pytest.mark.parametrize("degraded", ["blur", "shift"])
def test_degraded_copies_score_worse_on_every_metric(runs, degraded):
    _, out = runs
    truth, worse = out["truth"][1], out[degraded][1]
    for item in ("single-self-pexels_00s", "single-self-man"):
        assert _value(worse, item, "psnr@v2") < 60 < _value(truth, item, "psnr@v2")
        assert _value(worse, item, "ssim@v2") < _value(truth, item, "ssim@v2")
        assert _value(worse, item, "lpips@v2") > _value(truth, item, "lpips@v2") + 0.01
        assert _value(worse, item, "lmd@v2") > _value(truth, item, "lmd@v2") + 1e-4
    for face in (0, 1):  # multi self: per face, in each face's region
        assert _value(worse, PAIR, "psnr@v2", face) < _value(truth, PAIR, "psnr@v2", face)
        assert _value(worse, PAIR, "lpips@v2", face) > _value(truth, PAIR, "lpips@v2", face)


def test_static_portrait_is_much_worse_on_expression(runs):
    _, out = runs
    truth, static = out["truth"][1], out["static"][1]
    for item in ("single-cross-astronaut", "single-cross-pexels_00s_first"):
        # relative expression error: static's is the driver's whole motion (0.013-0.08 on these 16 frames)
        assert _value(static, item, "aed@v2") > _value(truth, item, "aed@v2") + 0.005
        assert _value(static, item, "motion@v2") < 0.05 < 0.99 < _value(truth, item, "motion@v2")
    # identity: a static portrait keeps it perfectly (CSIM ~1), the ceiling for identity
    assert _value(static, "single-cross-astronaut", "csim@v2") > 0.99


def test_multi_face_rows_and_coverage(runs, mini):
    _, out = runs
    frame = out["truth"][1]
    pair = frame[frame.item_id == PAIR]
    assert list(pair.face) == [0, 1] and pair.matched.all()
    assert (pair.coverage > 0.9).all()


def test_unmatched_face_is_nan_not_zero(mini, tmp_path):
    """Blank out the right half of the pair clip: face 1 is NaN with coverage 0, face 0 still scored."""
    results = tmp_path / "results"
    item = mini.item(PAIR)

    def left_only(it):
        frames = truth_frames(mini, it).copy()
        frames[:, :, frames.shape[2] // 2:] = 0
        return frames

    write_results(mini, results, "half", lambda it: left_only(it) if it.id == PAIR else None)
    evaluate(mini.root, results, "half", tmp_path / "ev", EvalOptions(items=[PAIR]))
    frame = pd.read_csv(tmp_path / "ev" / "per_item.csv")
    right = frame[frame.face == 1].iloc[0]
    left = frame[frame.face == 0].iloc[0]
    assert not right.matched and right.coverage == 0
    assert np.isnan(right["lmd@v2"]) and np.isnan(right["csim@v2"]) and np.isnan(right["mae@v2"])
    # pixel metrics are measured in the ground truth's face region: an erased face scores badly, not NaN
    assert right["psnr@v2"] < left["psnr@v2"] - 10 and right["lpips@v2"] > left["lpips@v2"] + 0.2
    assert np.isfinite(left["lmd@v2"]) and left["lmd@v2"] < 0.01
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    block = summary["splits"]["multi"]["self"]
    assert block["coverage"] == pytest.approx((left.coverage + 0) / 2)
    assert block["metrics"]["lmd@v2"]["n"] == 1 and block["metrics"]["lmd@v2"]["coverage"] == 0.5
    assert item.n_faces == 2


def test_two_runs_and_two_workers_are_identical(mini, runs, tmp_path):
    results, _ = runs
    a = tmp_path / "a"
    b = tmp_path / "b"
    options = dict(items=["single-self-man", "single-cross-astronaut"])
    evaluate(mini.root, results, "blur", a, EvalOptions(**options))
    evaluate(mini.root, results, "blur", b, EvalOptions(workers=2, **options))
    assert (a / "per_item.csv").read_bytes() == (b / "per_item.csv").read_bytes()


def test_missing_result_fails_or_keeps_going(mini, runs, tmp_path):
    results, _ = runs
    (results / "lossy").mkdir()
    item = mini.item("single-self-man")
    (results / "lossy" / f"{item.id}.mp4").write_bytes((results / "blur" / f"{item.id}.mp4").read_bytes())
    cmd = [sys.executable, "-m", "exprbench.cli", "-q", "eval", "--bench", str(mini.root), "--results", str(results),
           "--method", "lossy", "--out", str(tmp_path / "ev"), "--items", f"{item.id},single-self-pexels_00s"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 2
    assert "1 of 2 results unusable: single-self-pexels_00s: missing" in run.stderr.strip().splitlines()[-1]
    run = subprocess.run(cmd + ["--keep-going"], capture_output=True, text=True)
    assert run.returncode == 1 and "1 item(s) failed" in run.stderr
    frame = pd.read_csv(tmp_path / "ev" / "per_item.csv")
    assert list(frame.item_id) == [item.id]
    run = subprocess.run(cmd + ["--keep-going", "--require", "fid"], capture_output=True, text=True)
    assert run.returncode == 3 and "fid@v2 is unavailable" in run.stderr
