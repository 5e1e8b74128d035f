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


def _fits(bench, item):
    """Whether the item's truth video already has the portrait's size (the results contract)."""
    from exprbench.benchmark.contract import even_size, portrait_size
    from exprbench.video import probe

    info = probe(bench.path(_truth_source(item)))
    return (info.width, info.height) == even_size(*portrait_size(bench, item))


def _truth_source(item):
    return item.ground_truth if item.mode == "self" else (item.driving or [item.driving_multi])[0]


def copy_truth(bench, results, method="truth"):
    """Self items: the ground-truth file itself; cross items: the (first) driving video, cropped and
    resized to the portrait's size where its shape differs (the results contract), stored losslessly."""
    folder = results / method
    folder.mkdir(parents=True, exist_ok=True)
    for item in bench.items:
        if _fits(bench, item):
            shutil.copyfile(bench.path(_truth_source(item)), folder / f"{item.id}.mp4")
        else:
            write_video(folder / f"{item.id}.mp4", truth_frames(bench, item), item.rate, lossless=True)
    return results


def static_frames(bench, item):
    return np.repeat(load_image(bench.path(item.portrait))[None], item.frames, axis=0)


def truth_frames(bench, item):
    """The frames ``copy_truth`` writes for ``item``."""
    from exprbench.benchmark.contract import even_size, portrait_size
    from exprbench.validate.ladders import resize_frames

    frames = read_video(bench.path(_truth_source(item)))
    return frames if _fits(bench, item) else resize_frames(frames, *even_size(*portrait_size(bench, item)))
