"""Boxes, head pose and gaze derived from MediaPipe's landmarks and transformation matrix.

Everything here is vectorised over a stack of faces (``n`` rows) so the analyser calls each function
once per video, not once per frame.

Conventions (protocol ``POSE_CONVENTION`` / ``GAZE_METHOD``, versioned with the analyser):

- Camera frame: MediaPipe's geometry pipeline frame, x to the image right, y up, z towards the
  viewer (the camera looks down -z). The facial transformation matrix maps MediaPipe's canonical face
  model (same axes when the face looks straight into the camera) into this frame, so its rotation
  part ``R`` is the head rotation.
- Head pose: ``R = Ry(yaw) @ Rx(-pitch) @ Rz(roll)`` (intrinsic Y-X-Z), in degrees.
  yaw > 0: the nose points to the image right (the subject turns to their left);
  pitch > 0: the nose points up; roll > 0: the face rotates counter-clockwise in the image.
  A horizontal mirror flips the signs of yaw and roll and keeps pitch.
- Gaze: per eye, a unit vector in the head frame (the canonical face frame: x to the subject's left
  as seen frontally, i.e. the image right, y up, z out of the face). Landmarks are put into a metric-like
  frame (pixels, y up, z towards the viewer), de-rotated by ``R``, and the iris centre's offset from
  the midpoint of the two eye corners is read as the displacement of the pupil on an eyeball of radius
  ``EYEBALL_RADIUS_PER_EYE_WIDTH`` x the corner-to-corner eye width (12 mm eyeball radius over a
  28 mm palpebral fissure). The vector is (dx, dy, sqrt(r^2 - dx^2 - dy^2)): (0, 0, 1) is straight
  ahead. No gaze network is available offline, so this is a geometric estimate; it is unbiased
  between two faces measured the same way, which is what the eye-motion metric compares. When an eye
  is closed (its eyeBlink blendshape above ``BLINK_CLOSED``) its iris is not visible and its gaze is
  NaN; the combined gaze is the normalised mean of the open eyes.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

POSE_CONVENTION = "yaw-pitch-roll-deg/YXZ-intrinsic/yaw+=nose-right,pitch+=nose-up,roll+=ccw-in-image"
GAZE_METHOD = "iris-offset-on-eyeball/head-frame/r=0.43*eye-width/blink>0.6=nan"

EYEBALL_RADIUS_PER_EYE_WIDTH = 12.0 / 28.0
BLINK_CLOSED = 0.6

# MediaPipe face-mesh indices (subject's left/right): iris centre, outer and inner eye corner.
LEFT_EYE = {"iris": 473, "corners": (362, 263)}
RIGHT_EYE = {"iris": 468, "corners": (33, 133)}


def boxes_from_landmarks(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(n, 4) x0, y0, x1, y1 pixel boxes: the landmark extent, clipped to the image."""
    if len(landmarks) == 0:
        return np.zeros((0, 4), np.float32)
    xy = landmarks[..., :2] * np.array([width, height], np.float32)
    lo = xy.min(axis=1)
    hi = xy.max(axis=1)
    boxes = np.concatenate([lo, hi], axis=1)
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes.astype(np.float32)


def pose_from_matrices(matrices: np.ndarray) -> np.ndarray:
    """(n, 3) yaw, pitch, roll in degrees from (n, 4, 4) facial transformation matrices."""
    if len(matrices) == 0:
        return np.zeros((0, 3), np.float32)
    yaw, pitch_down, roll = Rotation.from_matrix(matrices[:, :3, :3].astype(np.float64)).as_euler(
        "YXZ", degrees=True).T
    return np.stack([yaw, -pitch_down, roll], axis=1).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def head_frame_points(landmarks: np.ndarray, matrices: np.ndarray, width: int, height: int) -> np.ndarray:
    """Landmarks in pixels (y up, z towards the viewer) with the head rotation removed: (n, 478, 3)."""
    scale = np.array([width, -height, -width], np.float64)
    points = landmarks.astype(np.float64) * scale
    rotation = matrices[:, :3, :3].astype(np.float64)
    rotation = Rotation.from_matrix(rotation).as_matrix()  # orthonormalise
    # row vectors: p_head = R^T p  <=>  p_head_row = p_row @ R
    return points @ rotation


def _eye_gaze(points: np.ndarray, eye: dict) -> np.ndarray:
    iris = points[:, eye["iris"]]
    a, b = points[:, eye["corners"][0]], points[:, eye["corners"][1]]
    centre = (a + b) / 2
    radius = EYEBALL_RADIUS_PER_EYE_WIDTH * np.linalg.norm((a - b)[:, :2], axis=1)
    dx, dy = (iris - centre)[:, 0], (iris - centre)[:, 1]
    dz = np.sqrt(np.maximum(radius**2 - dx**2 - dy**2, (0.1 * radius) ** 2))
    return _unit(np.stack([dx, dy, dz], axis=1))


def gaze_vectors(landmarks: np.ndarray, matrices: np.ndarray, blink: np.ndarray, width: int,
                 height: int) -> np.ndarray:
    """(n, 3, 3) unit gaze [left eye, right eye, combined] in the head frame; NaN for closed eyes.

    ``blink`` is (n, 2): the eyeBlinkLeft and eyeBlinkRight blendshape scores.
    """
    if len(landmarks) == 0:
        return np.zeros((0, 3, 3), np.float32)
    points = head_frame_points(landmarks, matrices, width, height)
    left = _eye_gaze(points, LEFT_EYE)
    right = _eye_gaze(points, RIGHT_EYE)
    left[blink[:, 0] > BLINK_CLOSED] = np.nan
    right[blink[:, 1] > BLINK_CLOSED] = np.nan
    combined = _unit(np.nansum(np.stack([left, right]), axis=0))
    combined[np.isnan(left[:, 0]) & np.isnan(right[:, 0])] = np.nan
    return np.stack([left, right, combined], axis=1).astype(np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) intersection over union of x0, y0, x1, y1 boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def box_centres(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2], axis=1)


def box_sizes(boxes: np.ndarray) -> np.ndarray:
    """Geometric-mean side length of each box (pixels): the face scale used to normalise distances."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 1e-6, None) * np.clip(boxes[:, 3] - boxes[:, 1], 1e-6, None))
