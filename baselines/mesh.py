"""Piecewise-affine image warping on a triangle mesh, with OpenCV, for one face region at a time.

Why not ``skimage.transform.PiecewiseAffineTransform``: it locates every output pixel's triangle with a
Delaunay point search and runs at a few frames per second at 512 px. Here the *target* triangles are
rasterised once per frame into a label image (``cv2.fillConvexPoly`` with 1/16 px precision), each
pixel's triangle gives its affine map back to the source, and one ``cv2.remap`` samples the source
(bilinear). The mesh's outer ring of points never moves, so the warp is the identity on and outside the
ring and the face region blends into the untouched image without seams.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

_SHIFT = 4  # fillConvexPoly fixed-point bits: vertices at 1/16 px


@dataclass
class Mesh:
    """A triangulation of source points; ``roi`` (x0, y0, x1, y1) bounds everything that can change."""

    source: np.ndarray  # (P, 2) float64 pixel coordinates in the source image
    triangles: np.ndarray  # (K, 3) vertex indices
    roi: tuple[int, int, int, int]

    @classmethod
    def build(cls, points: np.ndarray, width: int, height: int) -> Mesh:
        points = np.asarray(points, np.float64)
        triangles = Delaunay(points).simplices.astype(np.int64)
        x0, y0 = np.floor(points.min(axis=0)).astype(int)
        x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
        roi = (max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))
        return cls(points, triangles, roi)


def _affines(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3, 2) maps with [x, y, 1] @ M = source point for target triangles, and a (K,) valid flag."""
    t = np.concatenate([dst, np.ones(dst.shape[:2] + (1,))], axis=2)  # (K, 3, 3)
    det = np.linalg.det(t)
    valid = np.abs(det) > 1e-3
    maps = np.zeros((len(t), 3, 2))
    if valid.any():
        maps[valid] = np.linalg.solve(t[valid], src[valid])
    return maps, valid


def warp_region(canvas: np.ndarray, source: np.ndarray, mesh: Mesh, target: np.ndarray) -> None:
    """Warp ``source`` so that ``mesh.source`` points land on ``target`` points, writing into ``canvas``.

    Only pixels covered by a target triangle are written (inside ``mesh.roi``); a triangle folded flat
    (zero area) is skipped, and where folded triangles overlap, the later one wins. ``source`` may be
    ``canvas`` itself (the region is sampled before it is written), which is how several faces' warps
    compose on one frame.
    """
    x0, y0, x1, y1 = mesh.roi
    if x1 <= x0 or y1 <= y0:
        return
    tri_dst = np.asarray(target, np.float64)[mesh.triangles]
    tri_src = mesh.source[mesh.triangles]
    maps, valid = _affines(tri_src, tri_dst)
    labels = np.zeros((y1 - y0, x1 - x0), np.int32)
    fixed = np.round((tri_dst - [x0, y0]) * (1 << _SHIFT)).astype(np.int32)
    for k in np.flatnonzero(valid):
        cv2.fillConvexPoly(labels, fixed[k], int(k) + 1, lineType=cv2.LINE_8, shift=_SHIFT)
    covered = labels > 0
    ys, xs = np.nonzero(covered)
    m = maps[labels[covered] - 1]  # (N, 3, 2)
    px = (xs + x0).astype(np.float64)
    py = (ys + y0).astype(np.float64)
    map_x = np.zeros(labels.shape, np.float32)
    map_y = np.zeros(labels.shape, np.float32)
    map_x[covered] = px * m[:, 0, 0] + py * m[:, 1, 0] + m[:, 2, 0]
    map_y[covered] = px * m[:, 0, 1] + py * m[:, 1, 1] + m[:, 2, 1]
    warped = cv2.remap(source, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    region = canvas[y0:y1, x0:x1]
    region[covered] = warped[covered]
