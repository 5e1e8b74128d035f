"""Five-point similarity alignment of a face to the 224x224 PD-FGC input (spec §2.4)."""

from __future__ import annotations

import cv2
import numpy as np
import torch

ALIGN_POINTS = (182, 202, 36, 149, 133)
"""Indices in the 222-point layout: left pupil, right pupil, nose tip, two mouth corners."""
TEMPLATE = np.array([[0.3843, 0.27], [0.62, 0.2668], [0.503, 0.4185], [0.406, 0.5273], [0.5977, 0.525]])
SIZE = 224


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation) src -> dst, 2x3.

    Umeyama (PAMI 1991); reflections are excluded.
    """
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rotation = u @ np.diag(sign) @ vt
    scale = (singular * sign).sum() / src_c.var(axis=0).sum()
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_face(image_bgr: np.ndarray, landmarks222: np.ndarray) -> np.ndarray:
    """Warp the face to the 224x224 template with bicubic interpolation (BGR uint8 out)."""
    matrix = umeyama(landmarks222[list(ALIGN_POINTS)].astype(np.float64), TEMPLATE * SIZE)
    return cv2.warpAffine(image_bgr, matrix, (SIZE, SIZE), flags=cv2.INTER_CUBIC)


def to_model_input(aligned_bgr: np.ndarray) -> torch.Tensor:
    """BGR uint8 224x224 -> RGB float tensor [3, 224, 224] in [-1, 1]."""
    rgb = cv2.cvtColor(aligned_bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0 * 2 - 1
    return torch.from_numpy(rgb).permute(2, 0, 1).contiguous()
