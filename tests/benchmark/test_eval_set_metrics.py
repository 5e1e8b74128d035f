"""FID/FVD plumbing inside eval, with STAND-IN feature networks (the real Inception and I3D weights are
web-only and absent here). The stand-ins are fixed, weight-free pooling functions: they test that eval
pools the right frames and windows per split, caches ground-truth features and reports the network
name, not that the numbers are FID or FVD."""

import numpy as np
import pytest
import torch
from bench_media import copy_truth, truth_frames, write_results
from scipy.ndimage import gaussian_filter

from exprbench.assets import home
from exprbench.evaluate import EvalOptions, evaluate
from exprbench.metrics import FeatureNetwork
from exprbench.metrics.fid import FID
from exprbench.metrics.fvd import FVD
from exprbench.scoring import instances

ITEMS = ["single-self-pexels_00s", "single-self-pexels_06s", "single-self-man", "multi-self-pair_woman_man"]


def _pooled(x: torch.Tensor) -> torch.Tensor:
    """Per-channel means and standard deviations over 2x2 spatial quadrants (and time for videos)."""
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    parts = [x[..., :h, :w], x[..., :h, w:], x[..., h:, :w], x[..., h:, w:]]
    dims = tuple(range(2, x.ndim))
    return torch.cat([torch.cat([p.mean(dim=dims), p.std(dim=dims)], dim=1) for p in parts], dim=1)


@pytest.fixture()
def stand_ins(monkeypatch):
    fid = FID(network=FeatureNetwork(name="STAND-IN quadrant pooling (not Inception)", forward=_pooled, dim=24))
    fvd = FVD(network=FeatureNetwork(name="STAND-IN quadrant pooling (not I3D)", forward=_pooled, dim=24))
    monkeypatch.setattr(instances, "_INSTANCES", {instances.metric_instance_key("fid"): fid,
                                                  instances.metric_instance_key("fvd"): fvd})
    return fid, fvd


def test_fid_fvd_plumbing_with_stand_ins(mini, tmp_path, stand_ins):
    results = copy_truth(mini, tmp_path / "results")
    write_results(mini, results, "blur", lambda it: np.stack(
        [gaussian_filter(f, sigma=(3, 3, 0)) for f in truth_frames(mini, it)]) if it.id in ITEMS else None)
    truth = evaluate(mini.root, results, "truth", tmp_path / "ev-truth", EvalOptions(items=ITEMS))
    blur = evaluate(mini.root, results, "blur", tmp_path / "ev-blur", EvalOptions(items=ITEMS))
    assert truth["unavailable"] == {}
    for split, videos in (("single", 3), ("multi", 2)):  # multi: one face-region video per face
        t = truth["splits"][split]["self"]["metrics"]
        b = blur["splits"][split]["self"]["metrics"]
        assert "STAND-IN" in t["fid@v2"]["network"] and "STAND-IN" in t["fvd@v2"]["network"]
        assert t["fid@v2"]["value"] == pytest.approx(0, abs=1e-6)
        assert b["fid@v2"]["value"] > 1e-4 and b["fvd@v2"]["value"] > 1e-4
        assert t["fid@v2"]["n_generated"] == videos * 16  # every frame of every video (or face region)
        assert t["fvd@v2"]["n_generated"] == videos  # one 16-frame window per 16-frame video
        assert any("below the 100" in w for w in t["fvd@v2"]["warnings"])
    cached = list((home() / "cache" / "features").glob("*.npy"))
    assert len(cached) >= 2 * 5  # ground-truth features of both metrics, 3 single videos + 2 face regions
