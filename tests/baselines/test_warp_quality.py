"""warp against static on a real mini benchmark, scored by ``exprbench eval`` (issue 6's requirement).

The benchmark is ``prepare_sample`` at 24 frames (about 1 s of each clip), restricted to items that
cover every path of the warp: single self (two people), single cross (a photo and a first frame), a
two-face self item tracked in one side-by-side video and a two-face cross item driven by it. Both
methods are generated with the harness and scored with ``exprbench.evaluate.evaluate`` on the face
metrics the requirement names (LMD in self mode, AED in cross mode, CSIM in both).

Margins, from the measured figures (24 frames; the 50-frame mini benchmark in ``baselines/warp.py``):
warp re-applies the driver's head motion, so in self mode its landmarks follow the ground truth and LMD
must be under ``LMD_RATIO`` of static's (measured 0.56 on the two-face item, where region-mode analysis
of small faces is noisier, and far lower on single items); AED must be lower than static's in every split; CSIM, where static is
the ceiling (the portrait itself, about 0.999), must stay within ``CSIM_MARGIN`` of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from baselines import generate_items, get_adapter
from exprbench.benchmark.prepare import prepare_sample
from exprbench.evaluate import EvalOptions, evaluate
from exprbench.video import read_video

ITEMS = ["single-self-pexels_00s", "single-self-man", "single-cross-astronaut", "single-cross-pexels_00s_first",
         "multi-self-pair_woman_man", "multi-cross-duo_astronaut_photo"]
LMD_RATIO = 0.75
CSIM_MARGIN = 0.03
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """(benchmark, results folder, {method: summary}) for static and warp on ``ITEMS``."""
    root = tmp_path_factory.mktemp("quality")
    bench = prepare_sample(root / "bench", frames=24)
    items = [bench.item(i) for i in ITEMS]
    summaries = {}
    for method in ("static", "warp"):
        outcomes = generate_items(get_adapter(method), bench, items, root / "results")
        assert [o.status for o in outcomes] == ["done"] * len(items), [o.error for o in outcomes]
        summaries[method] = evaluate(bench.root, root / "results", method, root / f"eval_{method}",
                                     EvalOptions(items=ITEMS, metrics=("lmd", "aed", "csim")))
    return bench, root / "results", summaries


def metric(summary: dict, split: str, mode: str, key: str) -> float:
    block = summary["splits"][split][mode]
    assert block["coverage"] == 1.0, (split, mode, block)  # every face found in every generated frame
    return block["metrics"][f"{key}@v2"]["value"]


@pytest.mark.parametrize("split", ["single", "multi"])
def test_warp_beats_static_on_landmarks_and_expression(scored, split):
    _, _, summaries = scored
    static, warp = summaries["static"], summaries["warp"]
    print(split, {m: {mode: {k: v["value"] for k, v in s["splits"][split][mode]["metrics"].items()}
                      for mode in ("self", "cross")} for m, s in summaries.items()})
    assert metric(warp, split, "self", "lmd") < LMD_RATIO * metric(static, split, "self", "lmd")
    assert metric(warp, split, "cross", "aed") < metric(static, split, "cross", "aed")


@pytest.mark.parametrize("split", ["single", "multi"])
@pytest.mark.parametrize("mode", ["self", "cross"])
def test_warp_stays_close_to_static_on_identity(scored, split, mode):
    _, _, summaries = scored
    assert metric(summaries["warp"], split, mode, "csim") > metric(summaries["static"], split, mode, "csim") - CSIM_MARGIN


def test_warp_is_deterministic_on_the_real_benchmark(scored, tmp_path):
    bench, results, _ = scored
    item = bench.item("multi-cross-duo_astronaut_photo")  # two faces, one shared multi-person driving video
    assert {o.status for o in generate_items(get_adapter("warp"), bench, [item], tmp_path)} == {"done"}
    first = read_video(results / "warp" / f"{item.id}.mp4")
    second = read_video(tmp_path / "warp" / f"{item.id}.mp4")
    assert np.array_equal(first, second)
