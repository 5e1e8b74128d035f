"""Per-face measurements the filters and annotations share (pure numpy/OpenCV, no models).

Definitions (versioned with ``PIPELINE_VERSION``; change one and the config hash changes with it):

- **face size**: the shorter side of the face box, in source pixels; a face's size is the median over the
  analysed frames where it is present.
- **overlap**: intersection-over-union of two face boxes in the same frame; a clip's overlap is the
  maximum over frames and face pairs.
- **sharpness**: variance of the Laplacian of the grey face crop after resizing it to a fixed square, so
  the value does not grow with face size; a face's sharpness is the median over its frames.
- **blendshape_std**: the temporal standard deviation of each of the 52 MediaPipe blendshape scores,
  averaged over the 51 non-neutral ones (expression change).
- **landmark_motion**: landmarks are aligned frame to frame by a similarity transform (removing head
  translation, rotation in the image plane and scale), and the mean remaining landmark displacement is
  divided by the face's RMS landmark radius and by the time between the frames: non-rigid facial motion
  in face radii per second.
- **pose_std**: temporal standard deviation of yaw, pitch and roll, averaged over the three, degrees.

Missing faces are NaN and never zero: every statistic is over the frames where the face is present.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``a`` and ``b`` (..., 4) as x0, y0, x1, y1; NaN where either box is absent."""
    ix0 = np.maximum(a[..., 0], b[..., 0])
    iy0 = np.maximum(a[..., 1], b[..., 1])
    ix1 = np.minimum(a[..., 2], b[..., 2])
    iy1 = np.minimum(a[..., 3], b[..., 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a + area_b - inter)


def face_size(boxes: np.ndarray) -> float:
    """Median shorter box side over present frames (boxes (F, 4), NaN rows absent); NaN if never present."""
    sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    sides = sides[np.isfinite(sides)]
    return float(np.median(sides)) if len(sides) else math.nan


def max_pairwise_iou(boxes: np.ndarray, faces: list[int]) -> float:
    """Largest IoU between any two of ``faces`` in any frame (boxes (F, N, 4)); 0 when fewer than two."""
    worst = 0.0
    for i, a in enumerate(faces):
        for b in faces[i + 1:]:
            iou = box_iou(boxes[:, a], boxes[:, b])
            if np.isfinite(iou).any():
                worst = max(worst, float(np.nanmax(iou)))
    return worst


def laplacian_sharpness(frame: np.ndarray, box: np.ndarray, crop_px: int) -> float:
    """Variance of the Laplacian of the grey face crop resized to ``crop_px`` square; NaN if no box."""
    if not np.isfinite(box).all():
        return math.nan
    h, w = frame.shape[:2]
    x0, y0 = max(int(math.floor(box[0])), 0), max(int(math.floor(box[1])), 0)
    x1, y1 = min(int(math.ceil(box[2])), w), min(int(math.ceil(box[3])), h)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return math.nan
    grey = cv2.cvtColor(np.ascontiguousarray(frame[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    interp = cv2.INTER_AREA if (x1 - x0) >= crop_px else cv2.INTER_LINEAR
    grey = cv2.resize(grey, (crop_px, crop_px), interpolation=interp)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def face_sharpness(frames: np.ndarray, boxes: np.ndarray, crop_px: int) -> float:
    """Median Laplacian sharpness of one face over the frames where it is present."""
    values = [laplacian_sharpness(f, b, crop_px) for f, b in zip(frames, boxes) if np.isfinite(b).all()]
    values = [v for v in values if np.isfinite(v)]
    return float(np.median(values)) if values else math.nan


def blendshape_std(blendshapes: np.ndarray) -> float:
    """Mean temporal std of the non-neutral blendshapes (blendshapes (F, 52), NaN rows absent)."""
    present = blendshapes[np.isfinite(blendshapes).all(axis=1)]
    if len(present) < 2:
        return math.nan
    return float(present[:, 1:].std(axis=0).mean())


def _align(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """``src`` points (K, 2) mapped onto ``dst`` by the least-squares similarity transform (Umeyama)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(d.T @ s)
    sign = np.ones(2)
    if np.linalg.det(u @ vt) < 0:
        sign[-1] = -1
    rot = u @ np.diag(sign) @ vt
    scale = (sig * sign).sum() / (s ** 2).sum()
    return scale * s @ rot.T + mu_d


def landmark_motion(landmarks: np.ndarray, width: int, height: int, fps: float) -> float:
    """Non-rigid landmark speed in face radii per second (landmarks (F, K, 3) normalised, NaN absent).

    Only pairs of consecutive analysed frames where the face is present in both contribute.
    """
    pts = landmarks[..., :2] * np.array([width, height], dtype=np.float64)
    present = np.isfinite(pts).all(axis=(1, 2))
    speeds = []
    for t in range(1, len(pts)):
        if not (present[t] and present[t - 1]):
            continue
        prev, cur = pts[t - 1], pts[t]
        radius = math.sqrt(((cur - cur.mean(0)) ** 2).sum(1).mean())
        if radius <= 0:
            continue
        moved = np.linalg.norm(_align(prev, cur) - cur, axis=1).mean()
        speeds.append(moved / radius * fps)
    return float(np.mean(speeds)) if speeds else math.nan


def pose_std(pose: np.ndarray) -> float:
    """Mean of the temporal std of yaw, pitch and roll (pose (F, 3) degrees, NaN rows absent)."""
    present = pose[np.isfinite(pose).all(axis=1)]
    if len(present) < 2:
        return math.nan
    return float(present.std(axis=0).mean())
