"""Real eval outputs for the leaderboard tests: the embedded mini benchmark (16-frame clips, real sample
media), two methods scored by the real ``exprbench eval`` on one item per split and mode.

``truth`` returns the ground truth (self) or the driving video (cross), so its self PSNR is +inf and
its face metrics are near perfect; ``static`` repeats the portrait. Built once per session (~1 min).
"""

import shutil

import numpy as np
import pytest

from exprbench.benchmark.prepare import prepare_sample
from exprbench.evaluate import EvalOptions, evaluate
from exprbench.video import load_image, write_video

ITEMS = ["single-self-man", "single-cross-astronaut", "multi-self-pair_woman_man", "multi-cross-duo_astronaut_photo"]


def _write_results(bench, results):
    for item in bench.select(None, ITEMS):
        truth = results / "truth"
        static = results / "static"
        truth.mkdir(parents=True, exist_ok=True)
        static.mkdir(parents=True, exist_ok=True)
        src = item.ground_truth if item.mode == "self" else (item.driving or [item.driving_multi])[0]
        shutil.copyfile(bench.path(src), truth / f"{item.id}.mp4")
        frames = np.repeat(load_image(bench.path(item.portrait))[None], item.frames, axis=0)
        write_video(static / f"{item.id}.mp4", frames, item.fps)


@pytest.fixture(scope="session")
def eval_runs(tmp_path_factory):
    """``{method: eval output folder}`` for ``truth`` and ``static``."""
    base = tmp_path_factory.mktemp("leaderboard_runs")
    bench = prepare_sample(base / "bench", frames=16)
    _write_results(bench, base / "results")
    runs = {}
    for method in ("truth", "static"):
        runs[method] = base / f"eval_{method}"
        evaluate(bench.root, base / "results", method, runs[method], EvalOptions(items=ITEMS))
    return runs
