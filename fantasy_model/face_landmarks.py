"""222-point face landmarks (`face_landmark.onnx`) with the release's crop refinement and smoothing.

Per frame the crop is a 128x128 similarity warp around the face (expand ratio 0.15), refined three
times from the previous estimate; landmarks are smoothed over time with the release's per-region
One-Euro filter (`Smoother222`), and faces smaller than 96 px or with probability < 1e-4 are
rejected (spec §2.3). The network input is the frame's pixels as decoded by OpenCV (BGR) / 255,
which is what the release feeds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fantasy_model.face_detector import onnx_session

CROP = 128
EXPAND = 0.15
MIN_FACE = 96
MIN_PROB = 1e-4
LEFT_EYE_CORNER, RIGHT_EYE_CORNER = 74, 96


def _rotation(centre: tuple[float, float], degrees: float, scale: float) -> np.ndarray:
    return cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(degrees), float(scale))


def transform_points(points: np.ndarray, matrix: np.ndarray, invert: bool = False) -> np.ndarray:
    if invert:
        matrix = cv2.invertAffineTransform(matrix)
    return points @ matrix[:, :2].T + matrix[:, 2]


def crop_from_box(box: np.ndarray) -> np.ndarray:
    """Affine matrix taking a detector box to the 128x128 landmark crop."""
    x0, y0, x1, y1 = [float(v) for v in box]
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    matrix = _rotation(centre, 0.0, CROP / max(x1 - x0, y1 - y0) * (1 - EXPAND))
    matrix[:, 2] += [CROP / 2 - centre[0], CROP / 2 - centre[1]]
    return matrix


def crop_from_points(points: np.ndarray, degrees: float) -> np.ndarray:
    """Affine matrix taking the previous landmark estimate, de-rotated, to the 128x128 crop."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2)
    upright = transform_points(points, _rotation(centre, degrees, 1.0))
    extent = upright.max(axis=0) - upright.min(axis=0)
    scale = CROP / max(extent) * (1 - EXPAND)
    matrix = _rotation(centre, degrees, scale)
    scaled = transform_points(points, matrix)
    scaled_centre = (scaled.min(axis=0) + scaled.max(axis=0)) / 2
    matrix[:, 2] += [CROP / 2 - scaled_centre[0], CROP / 2 - scaled_centre[1]]
    return matrix


def eye_roll_degrees(points: np.ndarray) -> float:
    left, right = points[LEFT_EYE_CORNER], points[RIGHT_EYE_CORNER]
    return math.degrees(math.atan2(right[1] - left[1], right[0] - left[0] + 1e-8))


@dataclass
class LandmarkResult:
    points: np.ndarray  # [222, 2] image pixels
    pitch_yaw: tuple[float, float]  # radians
    prob: float


class LandmarkModel:
    """Runs `face_landmark.onnx` and refines the crop `iterations` times."""

    def __init__(self, model_path: str | Path, iterations: int = 3) -> None:
        self.session = onnx_session(model_path, "face landmark (face_landmark.onnx)")
        self.input_name = self.session.get_inputs()[0].name
        self.iterations = iterations

    def _infer(self, image: np.ndarray, matrix: np.ndarray) -> LandmarkResult:
        crop = cv2.warpAffine(image, matrix, (CROP, CROP))
        blob = crop.transpose(2, 0, 1).astype(np.float32)[None] / 255.0
        landmarks, euler, prob = self.session.run(None, {self.input_name: blob})
        points = np.reshape(landmarks[0], (2, -1)).T * CROP
        return LandmarkResult(transform_points(points, matrix, invert=True), (float(euler[0, 0]), float(euler[0, 1])), float(np.ravel(prob)[0]))

    def __call__(self, image: np.ndarray, box: np.ndarray | None = None, previous: np.ndarray | None = None) -> LandmarkResult:
        if previous is not None:
            matrix = crop_from_points(previous, eye_roll_degrees(previous))
        elif box is not None:
            matrix = crop_from_box(box)
        else:
            raise ValueError("need a face box or previous landmarks")
        result = self._infer(image, matrix)
        for _ in range(self.iterations - 1):
            result = self._infer(image, crop_from_points(result.points, eye_roll_degrees(result.points)))
        return result


# (first index, last index + 1, distance indices or None, stable threshold, slow factor, fast factor)
_SMOOTH_REGIONS = (
    (0, 33, (9, 24), 0.005, 0.05, 0.3),
    (33, 48, None, 0.003, 0.03, 0.7),
    (48, 74, None, 0.003, 0.02, 0.5),
    (74, 96, None, 0.003, 0.03, 0.7),
    (96, 118, None, 0.003, 0.03, 0.7),
    (118, 182, None, 0.003, 0.05, 0.7),
    (182, 202, None, 0.003, 0.03, 0.7),
    (202, 222, None, 0.003, 0.03, 0.7),
)
_FAST_THRESHOLD = 0.02


def _smoothing_factor(t_e: float, cutoff: float) -> float:
    r = 2 * math.pi * cutoff * t_e
    return r / (r + 1)


@dataclass
class LandmarkSmoother:
    """The release's `Smoother222`: a One-Euro filter per face region whose speed follows its motion."""

    previous: np.ndarray | None = None
    derivative: list[np.ndarray | float] = field(default_factory=lambda: [0.0] * len(_SMOOTH_REGIONS))

    def __call__(self, points: np.ndarray, face_size: float) -> np.ndarray:
        if self.previous is None:
            self.previous = points.copy()
            return points
        motion = np.linalg.norm(points - self.previous, axis=1) / face_size
        out = points.copy()
        for r, (start, stop, dist, stable, slow, fast) in enumerate(_SMOOTH_REGIONS):
            moved = float(np.mean(motion[slice(*(dist or (start, stop)))]))
            if moved < stable:
                factor = slow * moved / stable
            elif moved < _FAST_THRESHOLD:
                factor = slow + (fast - slow) * (moved - stable) / (_FAST_THRESHOLD - stable)
            else:
                factor = fast
            current, before = points[start:stop], self.previous[start:stop]
            if factor == 0.0:  # no motion at all: the release divides 0 by 0 here; the limit is "keep"
                out[start:stop] = before
                continue
            a_d = _smoothing_factor(factor, 1.0)
            dx_hat = a_d * (current - before) / factor + (1 - a_d) * self.derivative[r]
            a = _smoothing_factor(factor, 1.0 + factor * np.abs(dx_hat))
            out[start:stop] = a * current + (1 - a) * before
            self.derivative[r] = dx_hat
        self.previous = out
        return out


@dataclass
class TrackedFace:
    points: np.ndarray
    box: np.ndarray


class FaceTracker:
    """Follows the largest face through a video; frames where it is lost return None."""

    def __init__(self, landmarks: LandmarkModel) -> None:
        self.landmarks = landmarks
        self.reset()

    def reset(self) -> None:
        self.smoother = LandmarkSmoother()
        self.previous: np.ndarray | None = None
        self.face_size = 0.0

    def __call__(self, image: np.ndarray, box: np.ndarray | None) -> TrackedFace | None:
        if self.previous is None:
            if box is None:
                return None
            self.face_size = float(np.hypot(box[2] - box[0], box[3] - box[1]))
            result = self.landmarks(image, box=box)
        else:
            result = self.landmarks(image, previous=self.previous)
        if result.prob < MIN_PROB:
            self.reset()
            return None
        points = self.smoother(result.points, self.face_size)
        lo, hi = points.min(axis=0), points.max(axis=0)
        if (hi - lo).min() < MIN_FACE:
            self.reset()
            return None
        pitch, yaw = (math.degrees(v) for v in result.pitch_yaw)
        self.face_size = float(np.linalg.norm(points[0] - points[32])) * (1.0 + (abs(pitch) + abs(yaw) * 0.6) / 18.0)
        self.previous = points
        return TrackedFace(points=points, box=np.array([lo[0], lo[1], hi[0], hi[1]], dtype=np.float32))
