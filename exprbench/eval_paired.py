"""The pixel metrics of one self-mode item (PSNR, SSIM, LPIPS per face), streamed chunk by chunk.

Why a module of its own: ``exprbench eval`` used to decode the generated video and its ground truth
whole (a 4K, 250-frame pair is 12 GB of RGB). Paired metrics are per frame, so the two videos are
decoded side by side in aligned chunks, each chunk is scored for every face and then dropped; peak
memory is a few chunks whatever the length. Set metrics (FID, FVD) still need whole videos (FVD's
windows span chunks); they are read whole only when one of them is available and selected.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

import numpy as np

from exprbench.video import VideoFrames, chunk_frames, iter_frames


def aligned_chunks(a: Iterable[np.ndarray], b: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs of equally long chunks from two chunk streams of the same total length."""
    left, right = iter(a), iter(b)
    x = y = None
    while True:
        if x is None or not len(x):
            x = next(left, None)
        if y is None or not len(y):
            y = next(right, None)
        if x is None or y is None:
            return
        n = min(len(x), len(y))
        yield x[:n], y[:n]
        x, y = x[n:], y[n:]


def score_paired(bench, item, faces, rows: list[dict], generated: VideoFrames, options,  # noqa: ANN001
                 set_available: tuple[str, ...], outcome) -> None:  # noqa: ANN001
    """Add the paired metrics to each face's row (and set-metric features to ``outcome``)."""
    from exprbench.evaluate import (
        PAIRED_METRICS,
        SET_METRICS,
        _ground_truth_views,
        _paired_metric,
        _selected,
    )
    from exprbench.metrics import crop_regions, prepare
    from exprbench.video import probe

    n = len(generated)
    truth = probe(bench.path(item.ground_truth))
    size = (truth.height, truth.width)
    names = _selected(options, PAIRED_METRICS, item.mode)
    views = [_ground_truth_views(item, faces, j, np.empty((0, *size, 3), np.uint8), n) for j in range(len(rows))]
    values: dict[tuple[int, str], list[np.ndarray]] = {}
    chunk = min(chunk_frames(generated.info.width, generated.info.height), chunk_frames(truth.width, truth.height))
    start = 0
    gt_chunks = iter_frames(truth, list(range(n)), chunk=chunk)
    gen_chunks = iter(VideoFrames(generated.info, generated.indices, chunk=chunk))
    for gen, gt in aligned_chunks(gen_chunks, gt_chunks):
        stop = start + len(gen)
        # protocol: a generated video of another size is resized to the ground truth's before pixel metrics
        gen = gen if gen.shape[1:3] == gt.shape[1:3] else prepare(gen, gt.shape[1:3])
        for j, (regions, valid) in enumerate(views):
            if regions == []:
                continue
            part = None if valid is None else valid[start:stop]
            gen_view = gen if regions is None else crop_regions(gen, regions[start:stop])
            gt_view = gt if regions is None else crop_regions(gt, regions[start:stop])
            for name in names:
                metric = _paired_metric(name, options.device, options.batch_size)
                values.setdefault((j, name), []).append(metric.update(gen_view, gt_view, part))
                metric.compute_video()  # this chunk's values are kept above; start the next afresh
        start = stop
    for j, row in enumerate(rows):
        for name in names:
            metric = _paired_metric(name, options.device, options.batch_size)
            scored = np.concatenate(values[(j, name)]) if values.get((j, name)) else np.full(n, np.nan)
            row[metric.key] = metric.reduce_video(scored) if values.get((j, name)) else math.nan
            reference = np.ones(n, bool) if views[j][1] is None else np.asarray(views[j][1][:n], bool)
            measured = ~np.isnan(scored)  # +inf (an identical frame) is a value
            row[f"{metric.key}_coverage"] = float((measured & reference).sum() / reference.sum()) \
                if reference.any() else 0.0
    if any(name in set_available for name in _selected(options, SET_METRICS, item.mode)):
        _set_features(bench, item, faces, generated, n, options, set_available, outcome)


def _set_features(bench, item, faces, generated: VideoFrames, n: int, options, set_available,  # noqa: ANN001
                  outcome) -> None:  # noqa: ANN001
    """FID/FVD features of each face view (whole videos: FVD windows span chunks)."""
    import hashlib

    from exprbench.evaluate import SET_METRICS, _cached_features, _ground_truth_views, _selected, _set_metric
    from exprbench.metrics import crop_regions, prepare
    from exprbench.video import read_video

    gt = read_video(bench.path(item.ground_truth), list(range(n)))
    gen = read_video(generated.info, generated.indices)
    gen = gen if gen.shape[1:3] == gt.shape[1:3] else prepare(gen, gt.shape[1:3])
    for j in range(item.n_faces):
        regions, _ = _ground_truth_views(item, faces, j, gt, n)
        if regions == []:
            continue
        for name in _selected(options, SET_METRICS, item.mode):
            if name not in set_available:
                continue
            metric = _set_metric(name, options.device, options.batch_size)
            if regions is None:
                region_key, gen_set, gt_set = "full", gen, gt
            else:  # cut the face region at the metric's input size, so it is resampled once
                region_key = f"face{j}:{hashlib.sha1(str(regions).encode()).hexdigest()}"
                gen_set = crop_regions(gen, regions, size=metric.protocol.size)
                gt_set = crop_regions(gt, regions, size=metric.protocol.size)
            ref = _cached_features(bench.path(item.ground_truth), metric, region_key,
                                   lambda frames=gt_set, metric=metric: metric.features(frames))
            sides = outcome.features.setdefault(name, {"generated": [], "reference": []})
            sides["generated"].append(metric.features(gen_set))
            sides["reference"].append(ref)
