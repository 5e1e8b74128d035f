"""Driving video -> per-frame 554-d PD-FGC expression features and face boxes.

Differs from the release on purpose in one way, in both tracking modes: frames where no face is
found are filled from the nearest frame that has one instead of being dropped, so features stay
aligned with the video (the release silently shortens the sequence; spec §2.3, §14.5).

The per-frame boxes are the *landmark* boxes of the tracked face (min/max of its 222 smoothed
points), which is what the release's `det_landmarks` returns and `compute_max_xy` uses for the
mask's motion margins; detector boxes would give other margins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fantasy_model.face_align import align_face, to_model_input
from fantasy_model.face_detector import FaceDetector
from fantasy_model.face_landmarks import (
    TRACKING_MODES,
    FaceTracker,
    LandmarkModel,
    ReleaseTracker,
    TrackingMode,
    track_release,
)
from fantasy_model.pd_fgc import FanEncoder


def nearest_valid_indices(valid: np.ndarray) -> np.ndarray:
    """For every frame, the index of the nearest frame with a face (earlier frame wins ties)."""
    valid = np.asarray(valid, dtype=bool)
    good = np.flatnonzero(valid)
    if good.size == 0:
        raise ValueError("no face was found in any frame of the driving video")
    frames = np.arange(valid.size)
    right = np.clip(np.searchsorted(good, frames), 0, good.size - 1)
    left = np.clip(right - 1, 0, good.size - 1)
    take_left = np.abs(frames - good[left]) <= np.abs(good[right] - frames)
    return np.where(take_left, good[left], good[right])


@dataclass
class DrivingTrack:
    """Per-frame landmarks [F, 222, 2] and boxes [F, 4] (filled), and which frames had a face."""

    landmarks: np.ndarray
    boxes: np.ndarray
    detected: np.ndarray


def largest_box(boxes: np.ndarray) -> np.ndarray | None:
    if len(boxes) == 0:
        return None
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return boxes[int(np.argmax(areas))].astype(np.float32)


def _track_continuous(frames_bgr: list[np.ndarray], detector: FaceDetector, landmarks: LandmarkModel):
    tracker = FaceTracker(landmarks)
    points: list[np.ndarray | None] = []
    boxes: list[np.ndarray | None] = []
    for frame in frames_bgr:
        face = None
        if tracker.previous is not None:  # follow the face from its own landmarks
            face = tracker(frame, None)
        if face is None:  # not tracking, or just lost: detect again
            box = largest_box(detector.detect(frame)[0])
            face = tracker(frame, box) if box is not None else None
        points.append(None if face is None else face.points)
        boxes.append(None if face is None else face.box)
    return points, boxes


def track_faces(
    frames_bgr: list[np.ndarray], detector: FaceDetector, landmarks: LandmarkModel, mode: TrackingMode = "continuous"
) -> DrivingTrack:
    """Track the largest face's 222 landmarks (see `face_landmarks` for the modes), fill frames without one."""
    if mode == "continuous":
        points, boxes = _track_continuous(frames_bgr, detector, landmarks)
    elif mode == "official_compat":
        points, boxes = track_release(frames_bgr, ReleaseTracker(lambda image: detector.detect(image)[0], landmarks))
    else:
        raise ValueError(f"unknown tracking mode {mode!r}; choose one of {TRACKING_MODES}")
    detected = np.array([p is not None for p in points])
    source = nearest_valid_indices(detected)
    return DrivingTrack(
        landmarks=np.stack([points[i] for i in source]),
        boxes=np.stack([boxes[i] for i in source]),
        detected=detected,
    )


@torch.no_grad()
def encode_expressions(
    frames_bgr: list[np.ndarray], track: DrivingTrack, encoder: FanEncoder, device: torch.device, batch_size: int = 16
) -> torch.Tensor:
    """[F, 554] features from aligned faces; the encoder runs in eval mode, fp32, as released."""
    encoder = encoder.eval().to(device)
    outputs = []
    for start in range(0, len(frames_bgr), batch_size):
        faces = [
            to_model_input(align_face(frame, points))
            for frame, points in zip(frames_bgr[start : start + batch_size], track.landmarks[start : start + batch_size], strict=True)
        ]
        outputs.append(encoder(torch.stack(faces).to(device)).float().cpu())
    return torch.cat(outputs)


class ExpressionExtractor:
    """Bundles the three third-party models of the release (detector, landmarks, PD-FGC)."""

    def __init__(self, det_model: str | Path, landmark_model: str | Path, encoder: FanEncoder, device: str = "cpu") -> None:
        self.detector = FaceDetector(det_model)
        self.landmarks = LandmarkModel(landmark_model)
        self.encoder = encoder
        self.device = torch.device(device)

    def __call__(self, frames_bgr: list[np.ndarray], tracking: TrackingMode = "continuous") -> tuple[torch.Tensor, DrivingTrack]:
        track = track_faces(frames_bgr, self.detector, self.landmarks, tracking)
        return encode_expressions(frames_bgr, track, self.encoder, self.device), track

    def detect_portrait_faces(self, image_bgr: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Face boxes in the reference portrait, left to right (the release's person order)."""
        boxes, _ = self.detector.detect(image_bgr)
        return order_left_to_right(boxes)


def order_left_to_right(boxes: np.ndarray) -> list[tuple[float, float, float, float]]:
    ordered = sorted(np.asarray(boxes).tolist(), key=lambda b: (b[0] + b[2]) / 2)
    return [tuple(float(v) for v in b) for b in ordered]
