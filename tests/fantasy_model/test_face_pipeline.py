"""Driving-video preprocessing: detector decoding, alignment, smoothing, missing-face filling."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fantasy_model.expression_features import largest_box, nearest_valid_indices
from fantasy_model.face_align import (
    ALIGN_POINTS,
    SIZE,
    TEMPLATE,
    align_face,
    to_model_input,
    umeyama,
)
from fantasy_model.face_detector import (
    INPUT_HW,
    REG_MAX,
    STRIDES,
    FaceDetector,
    decode,
    grid_shape,
    hard_nms,
    letterbox_matrix,
)
from fantasy_model.face_landmarks import (
    LandmarkSmoother,
    crop_from_box,
    transform_points,
)


def test_umeyama_recovers_a_similarity_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ (scale * rot).T + shift
    matrix = umeyama(src, dst)
    np.testing.assert_allclose(matrix[:, :2], scale * rot, atol=1e-9)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-9)


def test_alignment_puts_the_five_points_on_the_template():
    image = np.zeros((400, 300, 3), np.uint8)
    landmarks = np.zeros((222, 2))
    points = TEMPLATE * SIZE * 1.3 + [40, 70]  # the template, scaled and shifted in the frame
    landmarks[list(ALIGN_POINTS)] = points
    x, y = points[2].astype(int)  # paint the nose point
    cv2.circle(image, (x, y), 3, (0, 0, 255), -1)
    aligned = align_face(image, landmarks)
    assert aligned.shape == (SIZE, SIZE, 3)
    ys, xs = np.nonzero(aligned[..., 2] > 128)
    np.testing.assert_allclose([xs.mean(), ys.mean()], TEMPLATE[2] * SIZE, atol=1.0)
    tensor = to_model_input(aligned)
    assert tensor.shape == (3, SIZE, SIZE) and tensor.min() >= -1 and tensor.max() <= 1
    assert tensor[0].max() > 0.9  # BGR red -> RGB channel 0


def test_missing_faces_are_filled_from_the_nearest_frame():
    valid = np.array([False, True, False, False, False, True, False])
    assert nearest_valid_indices(valid).tolist() == [1, 1, 1, 1, 5, 5, 5]
    with pytest.raises(ValueError, match="no face"):
        nearest_valid_indices(np.zeros(3, bool))
    boxes = np.array([[0, 0, 10, 10], [0, 0, 30, 20], [5, 5, 20, 20]])
    assert largest_box(boxes).tolist() == [0, 0, 30, 20]
    assert largest_box(np.zeros((0, 4))) is None


RELEASE_ANCHORS = {8: 34 * 20, 16: 17 * 10, 32: 9 * 5}
"""len(arange(272 / s)) * len(arange(160 / s)) per stride in the release: 272 / 32 = 8.5 gives 9 rows."""


def _raw_outputs(cell_stride=16, row=5, col=3, distances=(2.0, 3.0, 1.0, 4.0)):
    """Detector outputs of the release's lengths with one confident anchor (box distances in strides)."""
    scores, dists = [], []
    for stride in STRIDES:
        n = RELEASE_ANCHORS[stride]
        columns = INPUT_HW[1] // stride
        score = np.full(n, 0.01, np.float32)
        dist = np.full((n, 4, REG_MAX + 1), -10.0, np.float32)
        if stride == cell_stride:
            index = row * columns + col
            score[index] = 0.9
            for side, d in enumerate(distances):
                dist[index, side, int(d)] = 10.0
        scores.append(score)
        dists.append(dist.reshape(n, -1))
    return scores, dists


def test_detector_decoding_and_nms():
    scores, dists = _raw_outputs()
    boxes, confidences = decode(scores, dists, threshold=0.4, iou=0.3)
    assert confidences.tolist() == pytest.approx([0.9])
    cx, cy = 3 * 16, 5 * 16
    np.testing.assert_allclose(boxes[0], [cx - 32, cy - 48, cx + 16, cy + 64], atol=0.01)
    overlapping = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    assert hard_nms(overlapping, np.array([0.5, 0.9, 0.6]), 0.3).tolist() == [1, 2]


def test_anchor_grid_has_the_release_counts():
    assert {s: np.prod(grid_shape(s)) for s in STRIDES} == RELEASE_ANCHORS
    assert grid_shape(32) == (9, 5)  # ceil(272 / 32) rows; floor division would give 8 rows, 40 anchors


def test_decoding_reaches_the_last_stride_32_row():
    """Row 8 of stride 32 (centre y = 256) exists only in the release's 9-row grid."""
    scores, dists = _raw_outputs(cell_stride=32, row=8, col=2, distances=(1.0, 1.0, 1.0, 0.0))
    boxes, confidences = decode(scores, dists, threshold=0.4, iou=0.3)
    assert confidences.tolist() == pytest.approx([0.9])
    np.testing.assert_allclose(boxes[0], [64 - 32, 256 - 32, 64 + 32, 256], atol=0.01)


def test_detector_output_that_is_not_whole_rows_is_refused():
    scores, dists = _raw_outputs()
    scores[2], dists[2] = scores[2][:44], dists[2][:44]
    with pytest.raises(ValueError, match="stride 32 has 44 anchors"):
        decode(scores, dists, threshold=0.4, iou=0.3)


def test_nms_considers_only_the_200_best_candidates():
    """The release's hard_nms(candidate_size=200): with 250 disjoint boxes, the 200 best survive."""
    boxes = np.array([[20 * i, 0, 20 * i + 10, 10] for i in range(250)], np.float32)
    scores = np.linspace(0.5, 0.99, 250).astype(np.float32)
    kept = hard_nms(boxes, scores, 0.3)
    assert len(kept) == 200 and sorted(kept.tolist()) == list(range(50, 250))


def test_letterbox_keeps_aspect_ratio_and_centres():
    matrix = letterbox_matrix(320, 320)  # square into 160 x 272: scale 0.5, centred vertically
    corners = np.array([[0, 0, 1], [320, 320, 1]]) @ matrix.T
    np.testing.assert_allclose(corners[:, :2], [[0, 56], [160, 216]])


def test_missing_model_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="face_det.onnx"):
        FaceDetector(tmp_path / "face_det.onnx")


def test_crop_matrix_and_smoother():
    matrix = crop_from_box(np.array([100, 50, 200, 150]))
    centre = transform_points(np.array([[150.0, 100.0]]), matrix)
    np.testing.assert_allclose(centre, [[64, 64]])
    np.testing.assert_allclose(transform_points(centre, matrix, invert=True), [[150, 100]])
    smoother = LandmarkSmoother()
    rng = np.random.default_rng(0)
    points = rng.uniform(100, 200, (222, 2))
    np.testing.assert_array_equal(smoother(points, 100.0), points)
    np.testing.assert_array_equal(smoother(points.copy(), 100.0), points)  # no motion: unchanged, no NaN
    jitter = points + 0.05  # tiny motion is damped
    smoothed = smoother(jitter, 100.0)
    assert np.all(np.abs(smoothed - points) < 0.05) and np.isfinite(smoothed).all()
    jump = points + 30.0  # large motion follows mostly
    followed = smoother(jump, 100.0)
    assert np.all(followed - points > 15)
