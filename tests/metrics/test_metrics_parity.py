"""Device parity harness (exprbench.parity) on the CPU: one mini-benchmark item scored at default batch sizes
against batch size 1 (the CPU reference paths), every key eval emits compared with PROTOCOL.parity, and the
comparison itself shown to fail when a number moves by more than its tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exprbench.metrics import FeatureNetwork, all_metrics
from exprbench.parity import (
    DEVICE_METRICS,
    DeviceScores,
    compare,
    lagged_pair,
    load_bundle,
    save_bundle,
    score_frames,
    score_item_rows,
)
from exprbench.protocol import PROTOCOL

ITEM = "single-self-pexels_00s"
FRAMES = 16  # as the benchmark tests' mini benchmark (tests/benchmark/bench_media.py)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    """The mini benchmark exactly as tests/benchmark/conftest.py builds it (the sample, 16-frame clips)."""
    from exprbench.benchmark import load_benchmark
    from exprbench.benchmark.prepare import prepare_sample

    root = tmp_path_factory.mktemp("bench") / "mini"
    prepare_sample(root, frames=FRAMES)
    return load_benchmark(root)


@pytest.fixture(scope="module")
def truth(mini):
    from exprbench.video import read_video

    return read_video(mini.path(mini.item(ITEM).ground_truth))


def _pooled(x: torch.Tensor) -> torch.Tensor:
    """STAND-IN features (per-channel mean and std; not Inception or I3D): FID/FVD plumbing on any device."""
    dims = tuple(range(2, x.ndim))
    return torch.cat([x.mean(dim=dims), x.std(dim=dims)], dim=1)


STAND_INS = {name: (lambda device: FeatureNetwork(name="STAND-IN channel statistics", forward=_pooled, dim=6))
             for name in ("fid", "fvd")}


def test_every_device_metric_agrees_across_batch_sizes(truth):
    generated, reference = lagged_pair(truth[:9])
    paired = ("psnr", "ssim", "lpips", "fid")
    default = score_frames(generated, reference, "cpu", metrics=paired, networks=STAND_INS)
    single = score_frames(generated, reference, "cpu", batch_size=1, metrics=paired, networks=STAND_INS)
    clip = np.concatenate([truth, truth[::-1], truth[:1]])  # 33 frames: two FVD windows per side
    default_fvd = score_frames(*lagged_pair(clip), "cpu", metrics=("fvd",), networks=STAND_INS)
    single_fvd = score_frames(*lagged_pair(clip), "cpu", batch_size=1, metrics=("fvd",), networks=STAND_INS)
    default.values.update(default_fvd.values)
    single.values.update(single_fvd.values)
    assert not default.not_run and not single.not_run
    report = compare(default, single)
    assert report.ok, "\n".join(report.lines())
    keys = {c.key for c in report.checks}
    assert {f"{name}@v2" for name in DEVICE_METRICS} <= keys and "lpips@v2 per frame" in keys
    assert np.isfinite(default.values["fvd@v2"]).all() and np.isfinite(default.values["fid@v2"]).all()
    per_frame = default.values["psnr@v2 per frame"]  # frames 0 and 1 of the clip are identical: +inf on both sides
    assert per_frame.shape == (8,) and np.isposinf(per_frame[0]) and (per_frame[1:] > 30).all()


def test_eval_rows_of_one_item_agree_across_batch_sizes(mini, truth, tmp_path):
    from exprbench.video import write_video

    results = tmp_path / "results"
    (results / "lag").mkdir(parents=True)
    write_video(results / "lag" / f"{ITEM}.mp4", np.concatenate([truth[1:], truth[-1:]]), mini.item(ITEM).fps)
    default = score_item_rows(mini.root, results, "lag", ITEM, "cpu")
    small = score_item_rows(mini.root, results, "lag", ITEM, "cpu", batch_size=3)
    report = compare(default, small)
    assert report.ok, "\n".join(report.lines())
    keys = {c.key for c in report.checks}
    assert {"face0 psnr@v2", "face0 lpips@v2_coverage", "face0 lmd@v2", "face0 csim@v2", "face0 coverage"} <= keys
    assert all(c.allowed == 0 for c in report.checks if c.key.endswith(("lmd@v2", "_coverage")))


def _scores(**values) -> DeviceScores:
    return DeviceScores("cpu", None, {k.replace("_at_", "@"): np.atleast_1d(np.asarray(v, float)) for k, v in values.items()})


@pytest.mark.parametrize(("key", "ref", "moved", "ok"), [
    ("psnr_at_v2", 31.0, 31.0 + 0.6e-4, True), ("psnr_at_v2", 31.0, 31.0 + 2e-4, False),
    ("ssim_at_v2", 0.9, 0.9 + 5e-6, True), ("ssim_at_v2", 0.9, 0.9 + 2e-5, False),
    ("lpips_at_v2", 0.2, 0.2 + 2e-4, False), ("fid_at_v2", 100.0, 100.05, True), ("fid_at_v2", 100.0, 100.2, False),
    ("lmd_at_v2", 1.5, 1.5 + 1e-9, False), ("psnr_at_v2", np.inf, np.inf, True), ("psnr_at_v2", np.inf, 80.0, False),
    ("aed_at_v2", np.nan, np.nan, True), ("aed_at_v2", np.nan, 0.1, False),
])
def test_compare_applies_the_protocol_tolerance(key, ref, moved, ok):
    check = compare(_scores(**{key: ref}), _scores(**{key: moved})).checks[0]
    assert check.ok is ok


def test_a_key_missing_on_one_side_is_not_a_pass():
    reference = _scores(psnr_at_v2=30.0, lpips_at_v2=0.1)
    candidate = DeviceScores("cuda", None, {"psnr@v2": np.array([30.0])}, {"lpips@v2": "needs scipy"})
    report = compare(reference, candidate)
    assert report.ok and [c.key for c in report.not_run] == ["lpips@v2"] and "needs scipy" in report.not_run[0].note
    nothing = compare(DeviceScores("cpu", None, not_run={"fid@v2": "no weights"}),
                      DeviceScores("cuda", None, not_run={"fid@v2": "no weights"}))
    assert not nothing.ok and len(nothing.not_run) == 1  # nothing compared is not a pass


def test_every_key_eval_emits_has_a_tolerance():
    rule = PROTOCOL.parity
    assert rule.tolerance("psnr@v2") == (1e-4, 0.0) and rule.tolerance("ssim@v2") == (1e-5, 0.0)
    assert rule.tolerance("lpips@v2") == (1e-4, 0.0) and rule.tolerance("fvd@v2") == (0.0, 1e-3)
    for metric in all_metrics():
        absolute, relative = rule.tolerance(metric.key)
        assert absolute >= 0 and relative >= 0
        assert rule.tolerance(metric.key + "_coverage") == (0.0, 0.0)
        if metric.name not in DEVICE_METRICS:
            assert (absolute, relative) == (0.0, 0.0), metric.key


def test_bundle_round_trip_and_protocol_guard(truth, tmp_path, monkeypatch):
    frames = truth[:3]
    reference = score_frames(*lagged_pair(frames), "cpu", metrics=("psnr", "ssim"))
    path = save_bundle(tmp_path / "b.npz", ITEM, frames, reference)
    item_id, loaded, scores = load_bundle(path)
    assert item_id == ITEM and np.array_equal(loaded, frames)
    assert compare(reference, scores).ok and compare(scores, score_frames(*lagged_pair(loaded), "cpu",
                                                                          metrics=("psnr", "ssim"))).ok
    import exprbench.parity as parity

    monkeypatch.setattr(parity, "PROTOCOL", type(PROTOCOL)(version="v999"))
    with pytest.raises(ValueError, match="protocol v2"):
        load_bundle(path)
