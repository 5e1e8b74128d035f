"""Result writers shared by the benchmark tests (imported as a plain module: tests have no packages)."""

import shutil

import numpy as np

from exprbench.video import load_image, read_video, write_video

FRAMES = 16  # frames per clip of the shared test benchmark (the sample with short clips)


def write_results(bench, results, method, make):
    """Write RESULTS/<method>/<item>.mp4 with ``make(item) -> (T, H, W, 3) uint8`` for every item."""
    folder = results / method
    folder.mkdir(parents=True, exist_ok=True)
    for item in bench.items:
        frames = make(item)
        if frames is None:
            continue
        write_video(folder / f"{item.id}.mp4", frames, item.fps, crf=0 if method.startswith("lossless") else 12)
    return results


def copy_truth(bench, results, method="truth"):
    """Self items: the ground-truth file itself; cross items: the (first) driving video."""
    folder = results / method
    folder.mkdir(parents=True, exist_ok=True)
    for item in bench.items:
        src = item.ground_truth if item.mode == "self" else (item.driving or [item.driving_multi])[0]
        shutil.copyfile(bench.path(src), folder / f"{item.id}.mp4")
    return results


def static_frames(bench, item):
    return np.repeat(load_image(bench.path(item.portrait))[None], item.frames, axis=0)


def truth_frames(bench, item):
    src = item.ground_truth if item.mode == "self" else (item.driving or [item.driving_multi])[0]
    return read_video(bench.path(src))
