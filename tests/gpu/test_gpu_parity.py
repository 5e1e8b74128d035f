"""CUDA against CPU with exprbench.parity: a mini-benchmark item's device metrics and eval rows (gpu-marked)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from exprbench.parity import compare, lagged_pair, score_frames, score_item_rows

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
ITEM = "single-self-pexels_00s"


@pytest.fixture(scope="module")
def truth(mini):
    from exprbench.video import read_video

    return read_video(mini.path(mini.item(ITEM).ground_truth))


def test_device_metrics_match_the_cpu(truth):
    generated, reference = lagged_pair(truth)
    report = compare(score_frames(generated, reference, "cpu"), score_frames(generated, reference, "cuda"))
    assert report.ok, "\n".join(report.lines())
    assert not [c for c in report.not_run if c.key.startswith(("psnr", "ssim", "lpips"))], "\n".join(report.lines())


def test_eval_rows_match_the_cpu(mini, truth, tmp_path):
    from exprbench.video import write_video

    (tmp_path / "lag").mkdir()
    write_video(tmp_path / "lag" / f"{ITEM}.mp4", np.concatenate([truth[1:], truth[-1:]]), mini.item(ITEM).fps)
    report = compare(score_item_rows(mini.root, tmp_path, "lag", ITEM, "cpu"),
                     score_item_rows(mini.root, tmp_path, "lag", ITEM, "cuda"))
    assert report.ok, "\n".join(report.lines())
