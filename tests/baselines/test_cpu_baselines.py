"""static and warp on a tiny real-media benchmark: contract, resume, determinism (quality: ``test_warp_quality.py``)."""

from __future__ import annotations

import json

import numpy as np

from baselines import generate_items, get_adapter
from exprbench.benchmark.results import check_result
from exprbench.video import load_image, read_video


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255 ** 2 / mse)) if mse else float("inf")


def test_every_item_is_generated_and_conforms(bench, cpu_results):
    results, outcomes = cpu_results
    for method, items in outcomes.items():
        assert [o.status for o in items] == ["done"] * len(bench.items), [o.error for o in items]
        for item in bench.items:
            assert check_result(results, method, item).ok
            sidecar = json.loads((results / method / f"{item.id}.json").read_text())
            assert sidecar["adapter_version"] == get_adapter(method).version
            assert sidecar["multi_face"] == "native"
            assert sidecar["normalisation"]["target"]["frames"] == item.frames
            assert sidecar["wall_time_s"] > 0


def test_static_repeats_the_portrait(bench, cpu_results):
    results, _ = cpu_results
    item = bench.item("cross_astronaut")
    frames = read_video(results / "static" / f"{item.id}.mp4")
    portrait = load_image(bench.path(item.portrait)).astype(np.float32)
    assert psnr(frames[0], portrait) > 35 and psnr(frames[-1], portrait) > 35  # H.264 yuv420p loss only
    assert psnr(frames[0], frames[-1]) > 40  # nothing moves (P-frames differ by coding noise only)


def test_warp_moves_the_face_and_only_the_face(bench, cpu_results):
    results, _ = cpu_results
    item = bench.item("self_woman")
    frames = read_video(results / "warp" / f"{item.id}.mp4").astype(np.float32)
    portrait = load_image(bench.path(item.portrait)).astype(np.float32)
    x0, y0, x1, y1 = (int(v) for v in item.faces[0])
    assert psnr(frames[0], portrait) > 35  # relative motion: driving frame 0 is the portrait
    face_change = np.abs(frames[-1, y0:y1, x0:x1] - portrait[y0:y1, x0:x1]).mean()
    assert face_change > 4.0
    corner = np.abs(frames[-1, :40, :40] - portrait[:40, :40]).mean()  # far from the face: untouched
    assert corner < 1.5


def test_resume_skips_finished_items(bench, cpu_results):
    results, _ = cpu_results
    again = generate_items(get_adapter("static"), bench, bench.items, results)
    assert {o.status for o in again} == {"skipped"}


def test_warp_is_deterministic(bench, cpu_results, tmp_path):
    results, _ = cpu_results
    items = [bench.item("self_woman"), bench.item("multi_video")]
    rerun = generate_items(get_adapter("warp"), bench, items, tmp_path)
    assert {o.status for o in rerun} == {"done"}
    for item in items:
        first = read_video(results / "warp" / f"{item.id}.mp4")
        second = read_video(tmp_path / "warp" / f"{item.id}.mp4")
        assert np.array_equal(first, second), item.id

