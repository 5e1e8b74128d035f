"""The frame metrics of one self-mode item: paired metrics (PSNR, SSIM, LPIPS) per face, and the
set-metric (FID, FVD) features of each face view, all from one streamed pass over the two videos.

Why streamed: a 4K, 250-frame pair is 12 GB of RGB. The generated video and its ground truth are
decoded side by side in aligned chunks; each chunk is scored for every face, fed to the set-metric
feature streams (``FeatureStream``: the same network batches as on the whole video, so the same
features) and dropped. Peak memory is a few chunks whatever the length, and each video is decoded once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator

import numpy as np

from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.metrics import (
    FeatureStream,
    MetricSpec,
    PairedVideoMetric,
    SetMetric,
    crop_regions,
    prepare,
)
from exprbench.metrics.face_base import covered
from exprbench.scoring.face_metrics import selected
from exprbench.scoring.feature_cache import load_features, store_features
from exprbench.scoring.instances import metric_instance
from exprbench.scoring.item_faces import ItemFaces, ground_truth_regions
from exprbench.scoring.options import EvalOptions, ItemOutcome
from exprbench.video import VideoFrames, chunk_frames, iter_frames, probe


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


class _SetView:
    """One set metric on one face view: the generated stream, and the reference stream unless the
    reference features are cached."""

    def __init__(self, bench: Benchmark, item: Item, metric: SetMetric, region: str) -> None:
        self.metric, self.region, self.truth = metric, region, bench.path(item.ground_truth)
        self.reference = load_features(self.truth, metric, region)
        self.generated_stream = metric.stream()
        self.reference_stream: FeatureStream | None = metric.stream() if self.reference is None else None

    def add(self, generated, reference) -> None:  # noqa: ANN001 - frames (arrays or tensors)
        self.generated_stream.add(generated)
        if self.reference_stream is not None:
            self.reference_stream.add(reference)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        if self.reference_stream is not None:
            self.reference = self.reference_stream.finish()
            store_features(self.truth, self.metric, self.region, self.reference)
        return self.generated_stream.finish(), self.reference


def score_frames(bench: Benchmark, item: Item, faces: ItemFaces, rows: list[dict], generated: VideoFrames,
                 options: EvalOptions, set_available: tuple[str, ...], outcome: ItemOutcome) -> None:
    """Add the paired metrics to each face's row and the set-metric features to ``outcome``."""
    n = len(generated)
    truth = probe(bench.path(item.ground_truth))
    size = (truth.height, truth.width)
    paired: list[tuple[MetricSpec, PairedVideoMetric]] = [
        (spec, metric_instance(spec.name, options.device, options.batch_size))
        for spec in selected(options, item.mode, "paired")]
    sets = [metric_instance(spec.name, options.device, options.batch_size)
            for spec in selected(options, item.mode, "set") if spec.name in set_available]
    views = [ground_truth_regions(item, faces, j, size, n) for j in range(len(rows))]
    set_views: dict[tuple[int, str], _SetView] = {}
    for j, (regions, _) in enumerate(views):
        for metric in sets if regions != [] else []:
            region = "full" if regions is None else f"face{j}:{hashlib.sha1(str(regions).encode()).hexdigest()}"
            set_views[(j, metric.name)] = _SetView(bench, item, metric, region)

    values: dict[tuple[int, str], list[np.ndarray]] = {}
    chunk = min(chunk_frames(generated.info.width, generated.info.height), chunk_frames(truth.width, truth.height))
    start = 0
    gt_chunks = iter_frames(truth, list(range(n)), chunk=chunk)
    gen_chunks = iter(VideoFrames(generated.info, generated.indices, chunk=chunk))
    for gen, gt in aligned_chunks(gen_chunks, gt_chunks):
        stop = start + len(gen)
        # protocol: a generated video of another size is resized to the ground truth's before frame metrics
        gen = gen if gen.shape[1:3] == gt.shape[1:3] else prepare(gen, gt.shape[1:3])
        for j, (regions, valid) in enumerate(views):
            if regions == []:
                continue
            part = None if valid is None else valid[start:stop]
            gen_view = gen if regions is None else crop_regions(gen, regions[start:stop])
            gt_view = gt if regions is None else crop_regions(gt, regions[start:stop])
            for spec, metric in paired:
                values.setdefault((j, spec.name), []).append(metric.update(gen_view, gt_view, part))
                metric.compute_video()  # this chunk's values are kept above; start the next afresh
            for metric in sets:
                if regions is None:
                    set_views[(j, metric.name)].add(gen, gt)
                else:  # cut the face region at the metric's input size, so it is resampled once
                    set_views[(j, metric.name)].add(crop_regions(gen, regions[start:stop], size=metric.protocol.size),
                                                    crop_regions(gt, regions[start:stop], size=metric.protocol.size))
        start = stop

    for j, row in enumerate(rows):
        reference = np.ones(n, bool) if views[j][1] is None else np.asarray(views[j][1][:n], bool)
        for spec, metric in paired:
            chunks = values.get((j, spec.name))
            scored = np.concatenate(chunks) if chunks else np.full(n, np.nan)
            row[spec.key] = metric.reduce_video(scored) if chunks else math.nan
            row[f"{spec.key}_coverage"] = covered(~np.isnan(scored), reference)  # +inf (identical) is a value
    for (_, name), view in set_views.items():
        gen_features, ref_features = view.finish()
        sides = outcome.features.setdefault(name, {"generated": [], "reference": []})
        sides["generated"].append(gen_features)
        sides["reference"].append(ref_features)
