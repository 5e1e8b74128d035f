"""Landmark refinement and driving-face tracking against the release's `FaceAlignment` / `CameraDemo`.

The ONNX landmark network is web-only, so it is stood in for by `EyeDotNetwork`, a labelled stand-in
that reads the two eye corners from coloured dots in the crop it is given (so every crop matrix
really shapes its answer) and puts the other 220 points on a circle around them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from fantasy_model.expression_features import track_faces
from fantasy_model.face_landmarks import (
    CROP,
    LEFT_EYE_CORNER,
    RIGHT_EYE_CORNER,
    LandmarkModel,
    LandmarkResult,
    ReleaseTracker,
    box_iou,
    deduplicate,
    landmark_box,
    track_release,
)


class EyeDotNetwork:
    """Stand-in for face_landmark.onnx: red dot = left eye corner, green dot = right eye corner (BGR)."""

    def __init__(self) -> None:
        self.rolls: list[float] = []  # eye roll (degrees) of every crop it was shown

    def run(self, _outputs, feeds):
        crop = next(iter(feeds.values()))[0]  # [3, 128, 128] BGR / 255
        left = np.unravel_index(np.argmax(crop[2] - crop[1]), crop[2].shape)[::-1]
        right = np.unravel_index(np.argmax(crop[1] - crop[2]), crop[1].shape)[::-1]
        left, right = np.array(left, float), np.array(right, float)
        self.rolls.append(math.degrees(math.atan2(right[1] - left[1], right[0] - left[0])))
        centre, radius = (left + right) / 2, 1.2 * np.linalg.norm(right - left)
        angles = np.linspace(0, 2 * np.pi, 222, endpoint=False)
        points = centre + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        points[LEFT_EYE_CORNER], points[RIGHT_EYE_CORNER] = left, right
        landmarks = (points / CROP).T.reshape(1, -1).astype(np.float32)
        return landmarks, np.zeros((1, 2), np.float32), np.ones((1, 1), np.float32)


def _model(network: EyeDotNetwork) -> LandmarkModel:
    model = object.__new__(LandmarkModel)  # no ONNX file: the stand-in network replaces the session
    model.session, model.input_name, model.iterations = network, "input", 3
    return model


def _tilted_face(roll_degrees: float, size: int = 400):
    centre = np.array([size / 2, size / 2])
    direction = np.array([math.cos(math.radians(roll_degrees)), math.sin(math.radians(roll_degrees))])
    left, right = centre - 50 * direction, centre + 50 * direction
    image = np.zeros((size, size, 3), np.uint8)
    cv2.circle(image, tuple(int(v) for v in np.rint(left)), 4, (0, 0, 255), -1)
    cv2.circle(image, tuple(int(v) for v in np.rint(right)), 4, (0, 255, 0), -1)
    angles = np.linspace(0, 2 * np.pi, 222, endpoint=False)
    points = centre + 120 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points[LEFT_EYE_CORNER], points[RIGHT_EYE_CORNER] = left, right
    return image, points


def test_refinement_iterations_2_and_3_use_the_crop_space_roll():
    """Release: iteration 1 de-rotates by the image-space roll of the previous landmarks; iterations
    2-3 by the roll measured inside the previous crop. A 20 degree face is therefore shown upright,
    then at 20 degrees (the upright crop's roll is ~0), then upright again."""
    image, previous = _tilted_face(20.0)
    network = EyeDotNetwork()
    _model(network)(image, previous=previous)
    np.testing.assert_allclose(network.rolls, [0.0, 20.0, 0.0], atol=2.5)


def test_refinement_from_a_detector_box_starts_unrotated():
    image, _ = _tilted_face(20.0)
    network = EyeDotNetwork()
    result = _model(network)(image, box=np.array([80, 80, 320, 320]))
    np.testing.assert_allclose(network.rolls, [20.0, 0.0, 20.0], atol=2.5)
    assert abs(result.crop_roll - 20.0) < 2.5  # the last crop was unrotated


def test_iou_and_deduplication_follow_the_release():
    a, b = [0, 0, 100, 100], [10, 10, 120, 120]
    assert box_iou(a, b) == pytest.approx(8100 / 14000)
    assert box_iou(a, [200, 0, 300, 100]) == 0.0
    assert deduplicate([a, b, [200, 0, 300, 100]], set()) == {0}  # the smaller of the overlapping pair
    assert deduplicate([a, [0, 0, 100, 100]], set()) == {1}  # equal areas: the later one goes
    # the threshold is IoU > 0.12: a shift of 78 px overlaps 22/178 = 0.124, 79 px gives 21/179 = 0.117
    assert deduplicate([a, [78, 0, 178, 100]], set()) == {1}
    assert deduplicate([a, [79, 0, 179, 100]], set()) == set()
    assert deduplicate([a, b], {1}) == {1}  # already dropped tracks do not remove others


class BoxLandmarks:
    """Stand-in landmark model: points spanning the box (first frame), or the previous points
    moved by 1 px and scaled by `growth` about their centre (a face that moves and grows)."""

    def __init__(self, growth: float = 1.0) -> None:
        self.growth = growth

    def __call__(self, image, box=None, previous=None):
        if previous is not None:
            centre = previous.mean(axis=0)
            points = centre + (previous - centre) * self.growth + 1.0
        else:
            x0, y0, x1, y1 = box
            t = np.linspace(0, 1, 222)
            points = np.stack([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t[::-1]], axis=1)
        return LandmarkResult(points=points, pitch_yaw=(0.0, 0.0), prob=1.0)


class CountingDetector:
    def __init__(self, boxes):
        self.boxes, self.calls = [np.asarray(b, float) for b in boxes], 0

    def detect(self, image):
        self.calls += 1
        return np.array(self.boxes).reshape(-1, 4), np.ones(len(self.boxes))


@pytest.mark.parametrize("growth", [1.1, 0.9])
def test_release_tracker_redetects_every_frame_and_keeps_the_larger_of_overlapping_tracks(growth):
    detector = CountingDetector([[0, 0, 200, 200], [300, 0, 420, 120]])
    tracker = ReleaseTracker(lambda image: detector.detect(image)[0], BoxLandmarks(growth))
    frame = np.zeros((8, 8, 3), np.uint8)
    first = list(tracker(frame))
    assert len(first) == 2
    second = tracker(frame)  # 2 continuing tracks + 2 fresh detections of the same two faces
    assert detector.calls == 2 and len(second) == 2
    if growth > 1:  # the continuing tracks' landmark boxes grew: they win and keep their smoothing
        assert second[0] is first[0] and second[1] is first[1]
        assert (second[0].rect[2] - second[0].rect[0]) > 200
    else:  # they shrank: the fresh detections win, restarting from the detector boxes
        assert all(t is not f for t in second for f in first)
        np.testing.assert_allclose(second[0].rect, [0, 0, 200, 200])


def test_release_tracking_is_two_passes_seeded_with_the_first_box():
    detector = CountingDetector([[0, 0, 200, 200]])
    frames = [np.zeros((8, 8, 3), np.uint8)] * 4
    points, rects = track_release(frames, ReleaseTracker(lambda image: detector.detect(image)[0], BoxLandmarks()))
    assert detector.calls == 4 + 3  # pass 2 starts from pass 1's first box instead of detecting
    assert all(p is not None for p in points) and all(r is not None for r in rects)
    np.testing.assert_allclose(rects[0], [0, 0, 200, 200])


def test_continuous_tracking_detects_once_and_reports_landmark_boxes():
    detector = CountingDetector([[0, 0, 200, 200]])
    frames = [np.zeros((8, 8, 3), np.uint8)] * 5
    track = track_faces(frames, detector, BoxLandmarks(), mode="continuous")
    assert detector.calls == 1 and track.detected.all()
    # boxes are the smoothed landmarks' extent (what the release's compute_max_xy uses), not detector boxes
    for box, points in zip(track.boxes, track.landmarks, strict=True):
        np.testing.assert_allclose(box, landmark_box(points), atol=1e-4)
    official = track_faces(frames, CountingDetector([[0, 0, 200, 200]]), BoxLandmarks(), mode="official_compat")
    assert official.landmarks.shape == (5, 222, 2)
    with pytest.raises(ValueError, match="unknown tracking mode"):
        track_faces(frames, detector, BoxLandmarks(), mode="other")
