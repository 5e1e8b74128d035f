"""Expression, landmark and identity figures from face analysis, for the warp-vs-static check.

These stand in for ``exprbench eval`` until it lands (then the check should use it): AED = mean L1 over
the 52 MediaPipe blendshapes between generated and driving frames; LMD = mean Euclidean distance (px)
of the 478 landmarks' x, y between generated and ground-truth frames after a per-frame similarity fit
(self items only); CSIM = cosine
similarity of dlib embeddings, portrait vs generated frames. Faces are paired with the item's boxes;
a face missing from a frame is skipped (NaN), never scored as zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.faces import (
    FaceTracks,
    analyze_image,
    analyze_video,
    associate,
    cosine_similarity,
)


def _pair(item: Item, tracks: FaceTracks, size: tuple[int, int], method: str = "position") -> list[int | None]:
    return [associate(np.asarray(item.faces), tracks, reference_size=size, method=method).mapping[i]
            for i in range(item.n_faces)]


def _driving(bench: Benchmark, item: Item, size: tuple[int, int]) -> list[tuple[FaceTracks, int | None]]:
    if item.driving:
        out = []
        for rel in item.driving:
            t = analyze_video(bench.path(rel), num_faces=1, identity_every=0)
            out.append((t, int(np.argmax(t.coverage())) if t.n_tracks else None))
        return out
    t = analyze_video(bench.path(item.driving_multi), num_faces=item.n_faces, identity_every=0)
    return [(t, k) for k in _pair(item, t, size, "order")]


def _px(tracks: FaceTracks, k: int) -> np.ndarray:
    return tracks.landmarks[:, k, :, :2] * np.array([tracks.width, tracks.height])


def aligned_landmark_distance(gen: np.ndarray, ref: np.ndarray) -> float:
    """Mean landmark distance (px) after a per-frame similarity fit of ``gen`` onto ``ref`` (all points).

    The fit removes head position, in-plane rotation and scale, so what is left is the expression and
    out-of-plane pose: the part a pose-free method such as ``warp`` can be judged on.
    """
    from skimage.transform import SimilarityTransform

    out = []
    for a, b in zip(gen, ref):
        if np.isnan(a).any() or np.isnan(b).any():
            continue
        fit = SimilarityTransform.from_estimate(a, b) if hasattr(SimilarityTransform, "from_estimate") else None
        if fit is None:
            fit = SimilarityTransform()
            fit.estimate(a, b)
        out.append(np.linalg.norm(fit(a) - b, axis=-1).mean())
    return float(np.mean(out)) if out else float("nan")


def item_quality(bench: Benchmark, item: Item, video: Path) -> dict[str, float]:
    portrait = analyze_image(bench.path(item.portrait))
    size = (portrait.width, portrait.height)
    gen = analyze_video(video, num_faces=item.n_faces, identity_every=5, cache=False)
    gen_k = _pair(item, gen, size)
    port_k = _pair(item, portrait, size)
    gt = analyze_video(bench.path(item.ground_truth), num_faces=item.n_faces, identity_every=0) if item.ground_truth else None
    gt_k = _pair(item, gt, size) if gt is not None else []
    aed, lmd, csim, coverage = [], [], [], []
    for i, (drv, dk) in enumerate(_driving(bench, item, size)):
        g = gen_k[i]
        coverage.append(0.0 if g is None else float(gen.coverage()[g]))
        if g is None:
            continue
        if dk is not None:
            n = min(gen.n_frames, drv.n_frames)
            aed.append(np.nanmean(np.abs(gen.blendshapes[:n, g] - drv.blendshapes[:n, dk])))
        if gt is not None and gt_k[i] is not None:
            n = min(gen.n_frames, gt.n_frames)
            lmd.append(aligned_landmark_distance(_px(gen, g)[:n], _px(gt, gt_k[i])[:n]))
        if port_k[i] is not None:
            rows = gen.identity[:, g]
            rows = rows[~np.isnan(rows[:, 0])]
            ref = portrait.identity[0, port_k[i]]
            csim.append(np.mean([cosine_similarity(ref, r) for r in rows]) if len(rows) else np.nan)
    mean = lambda v: float(np.nanmean(v)) if len(v) and not np.isnan(v).all() else float("nan")
    return {"aed": mean(aed), "lmd": mean(lmd), "csim": mean(csim), "coverage": float(np.mean(coverage))}
