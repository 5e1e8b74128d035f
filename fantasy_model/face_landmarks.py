"""222-point face landmarks (`face_landmark.onnx`) with the release's crop refinement and smoothing.

Per frame the crop is a 128x128 similarity warp around the face (expand ratio 0.15), refined three
times from the previous estimate; landmarks are smoothed over time with the release's per-region
One-Euro filter (`Smoother222`), and faces smaller than 96 px or with probability < 1e-4 are
rejected (spec §2.3). The network input is the frame's pixels as decoded by OpenCV (BGR) / 255,
which is what the release feeds it.

Refinement follows the release's `FaceAlignment.forward`: the first crop is de-rotated by the eye
roll of the previous landmarks in image space, but iterations 2 and 3 use the roll of the *crop-space*
landmarks of the iteration before (the release's `euler[2]`), i.e. the residual tilt inside the
previous crop, not the face's absolute tilt.

Two trackers are provided (`TRACKING_MODES`):

* ``"continuous"`` (default, `FaceTracker`): the largest face is detected once and followed from
  its own landmarks with one smoother until it is lost; the detector runs again only then.
* ``"official_compat"`` (`ReleaseTracker` + `track_release`): the release's `CameraDemo` and
  `det_landmarks`: the detector runs on every frame and each detection starts a new track beside the
  continuing ones, overlapping tracks (IoU > 0.12 of their landmark boxes) are de-duplicated by
  keeping the larger landmark box, and the whole video is processed twice, the second pass seeded
  with the first pass's box of the first frame.

The default is ``"continuous"`` because it runs the detector about once per video instead of on
every frame of two passes (about half the ONNX work), and because it keeps one smoother history:
in the release a fresh detection that wins the de-duplication restarts smoothing, so landmarks can
jitter between frames. ``"official_compat"`` is there to reproduce the release's features exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from fantasy_model.face_detector import onnx_session

CROP = 128
EXPAND = 0.15
MIN_FACE = 96
MIN_PROB = 1e-4
DEDUP_IOU = 0.12
LEFT_EYE_CORNER, RIGHT_EYE_CORNER = 74, 96
TrackingMode = Literal["continuous", "official_compat"]
TRACKING_MODES: tuple[str, ...] = ("continuous", "official_compat")


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
    crop_roll: float = 0.0  # degrees, eye roll of the landmarks in the crop they were measured in


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
        crop_points = np.reshape(landmarks[0], (2, -1)).T * CROP
        return LandmarkResult(
            points=transform_points(crop_points, matrix, invert=True),
            pitch_yaw=(float(euler[0, 0]), float(euler[0, 1])),
            prob=float(np.ravel(prob)[0]),
            crop_roll=eye_roll_degrees(crop_points),
        )

    def __call__(self, image: np.ndarray, box: np.ndarray | None = None, previous: np.ndarray | None = None) -> LandmarkResult:
        if previous is not None:
            matrix = crop_from_points(previous, eye_roll_degrees(previous))
        elif box is not None:
            matrix = crop_from_box(box)
        else:
            raise ValueError("need a face box or previous landmarks")
        result = self._infer(image, matrix)
        for _ in range(self.iterations - 1):
            result = self._infer(image, crop_from_points(result.points, result.crop_roll))
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
    box: np.ndarray  # landmark box (x0, y0, x1, y1) of the smoothed points


def landmark_box(points: np.ndarray) -> np.ndarray:
    lo, hi = points.min(axis=0), points.max(axis=0)
    return np.array([lo[0], lo[1], hi[0], hi[1]], dtype=np.float64)


def next_face_size(points: np.ndarray, pitch_yaw: tuple[float, float]) -> float:
    """The release's face scale for the next frame's smoothing: contour width, grown with head turn."""
    pitch, yaw = (math.degrees(v) for v in pitch_yaw)
    return float(np.linalg.norm(points[0] - points[32])) * (1.0 + (abs(pitch) + abs(yaw) * 0.6) / 18.0)


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
        box = landmark_box(points)
        if min(box[2] - box[0], box[3] - box[1]) < MIN_FACE:
            self.reset()
            return None
        self.face_size = next_face_size(points, result.pitch_yaw)
        self.previous = points
        return TrackedFace(points=points, box=box.astype(np.float32))


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """The release's `count_iou` (0 when the boxes do not overlap)."""
    inter = abs(max(min(a[2], b[2]) - max(a[0], b[0]), 0) * max(min(a[3], b[3]) - max(a[1], b[1]), 0))
    if inter == 0:
        return 0.0
    area_a = abs((a[2] - a[0]) * (a[3] - a[1]))
    area_b = abs((b[2] - b[0]) * (b[3] - b[1]))
    return float(inter / (area_a + area_b - inter))


def box_area(box: Sequence[float]) -> float:
    return float((box[3] - box[1]) * (box[2] - box[0]))


@dataclass(eq=False)  # tracks are compared by identity
class ReleaseTrack:
    """One `CameraDemo` tracking object: its box (detector box, then landmark box) and smoother."""

    rect: np.ndarray
    face_size: float
    points: np.ndarray | None = None
    smoother: LandmarkSmoother = field(default_factory=LandmarkSmoother)

    @classmethod
    def from_box(cls, box: Sequence[float]) -> ReleaseTrack:
        rect = np.asarray(box, dtype=np.float64)
        return cls(rect=rect, face_size=float(np.hypot(rect[2] - rect[0], rect[3] - rect[1])))


def deduplicate(rects: Sequence[Sequence[float]], dropped: set[int]) -> set[int]:
    """The release's pairwise de-duplication: of two tracks whose boxes overlap with IoU > 0.12 the
    smaller box is dropped (the later one on equal areas). Loop order and the check of already
    dropped tracks are the release's, so chains of overlaps resolve the same way."""
    dropped = set(dropped)
    if len(rects) < 2:
        return dropped
    for i, target in enumerate(rects):
        if i in dropped:
            continue
        for j, other in enumerate(rects):
            if j in dropped or i == j:
                continue
            if box_iou(target, other) > DEDUP_IOU:
                dropped.add(i if box_area(target) - box_area(other) < 0 else j)
    return dropped


class ReleaseTracker:
    """The release's `CameraDemo.forward`: re-detect every frame, track all faces, de-duplicate."""

    def __init__(self, detect, landmarks: LandmarkModel) -> None:
        self.detect = detect  # image -> [N, 4] boxes
        self.landmarks = landmarks
        self.tracks: list[ReleaseTrack] = []

    def reset(self) -> None:
        self.tracks = []

    def __call__(self, image: np.ndarray, pre_rect: Sequence[float] | None = None) -> list[ReleaseTrack]:
        # `pre_rect` replaces the detector only while nothing is tracked (the release's first frame
        # of its second pass); afterwards every frame is detected again and all detections are added.
        boxes = [pre_rect] if not self.tracks and pre_rect is not None else list(self.detect(image))
        tracks = self.tracks + [ReleaseTrack.from_box(b) for b in boxes]
        dropped: set[int] = set()
        for index, track in enumerate(tracks):
            if track.points is not None:
                result = self.landmarks(image, previous=track.points)
            else:
                result = self.landmarks(image, box=track.rect)
            if result.prob < MIN_PROB:
                dropped.add(index)
                continue
            track.points = track.smoother(result.points, track.face_size)
            track.rect = landmark_box(track.points)
            if min(track.rect[2] - track.rect[0], track.rect[3] - track.rect[1]) < MIN_FACE:
                dropped.add(index)
            track.face_size = next_face_size(track.points, result.pitch_yaw)
        dropped = deduplicate([t.rect for t in tracks], dropped)
        self.tracks = [t for index, t in enumerate(tracks) if index not in dropped]
        return self.tracks


def largest_track(tracks: Sequence[ReleaseTrack]) -> ReleaseTrack | None:
    """The release's choice per frame: the largest landmark box (the last of equal ones)."""
    if not tracks:
        return None
    return sorted(tracks, key=lambda t: (t.rect[2] - t.rect[0]) * (t.rect[3] - t.rect[1]))[-1]


def track_release(frames: Sequence[np.ndarray], tracker: ReleaseTracker) -> tuple[list[np.ndarray | None], list[np.ndarray | None]]:
    """The release's two-pass `det_landmarks`: per frame, (landmarks of pass 2, landmark box of pass 1).

    Pass 1 tracks the whole video and records the largest face's landmark box per frame; pass 2
    starts again from the first of those boxes and tracks the frames pass 1 found a face in. None
    marks a frame without a face (the release drops such frames; the caller decides).
    """
    rects: list[np.ndarray | None] = [None] * len(frames)
    tracker.reset()
    for k, frame in enumerate(frames):
        face = largest_track(tracker(frame))
        rects[k] = None if face is None else face.rect.copy()
    tracker.reset()
    points: list[np.ndarray | None] = [None] * len(frames)
    for k, frame in enumerate(frames):
        if rects[k] is None:
            continue
        face = largest_track(tracker(frame, pre_rect=rects[k]))
        points[k] = None if face is None else face.points.copy()
    tracker.reset()
    return points, rects
