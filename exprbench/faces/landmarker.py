"""MediaPipe FaceLandmarker (Tasks API) run on RGB arrays, returning plain numpy arrays.

One landmarker instance per video (VIDEO mode tracks faces between frames and only re-runs the face
detector when it loses one, which is what makes it fast); IMAGE mode for still images and crops.
The result is converted to arrays immediately so nothing downstream touches MediaPipe objects.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Self

import numpy as np

from exprbench.assets import asset_path
from exprbench.native_log import native_logs_filtered

N_LANDMARKS = 478
N_BLENDSHAPES = 52


@dataclass
class Detections:
    """Faces found in one image, in MediaPipe's order: landmarks (k, 478, 3) normalised x, y in [0, 1]
    of the image and MediaPipe's relative z; blendshapes (k, 52); matrices (k, 4, 4)."""

    landmarks: np.ndarray
    blendshapes: np.ndarray
    matrices: np.ndarray

    def __len__(self) -> int:
        return len(self.landmarks)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, N_LANDMARKS, 3), np.float32), np.zeros((0, N_BLENDSHAPES), np.float32),
                   np.zeros((0, 4, 4), np.float32))

    def take(self, keep: np.ndarray) -> Detections:
        return Detections(self.landmarks[keep], self.blendshapes[keep], self.matrices[keep])

    @classmethod
    def concat(cls, parts: list[Detections]) -> Detections:
        if not parts:
            return cls.empty()
        return cls(np.concatenate([p.landmarks for p in parts]), np.concatenate([p.blendshapes for p in parts]),
                   np.concatenate([p.matrices for p in parts]))


class Landmarker:
    """A FaceLandmarker with blendshapes and transformation matrices; use as a context manager.

    ``mode`` is ``"video"`` (call ``detect(image, timestamp_ms)`` with strictly increasing timestamps)
    or ``"image"`` (``detect(image)``).
    """

    def __init__(self, mode: str, num_faces: int) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        running = {"video": vision.RunningMode.VIDEO, "image": vision.RunningMode.IMAGE}[mode]
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(asset_path("face_landmarker"))),
            running_mode=running, num_faces=num_faces,
            output_face_blendshapes=True, output_facial_transformation_matrixes=True)
        self.mode = mode
        with native_logs_filtered():  # its graph logs three lines per landmarker straight to fd 2
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._last_ts = -1
        self._first = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def detect(self, image: np.ndarray, timestamp_ms: int | None = None) -> Detections:
        """Faces in an RGB uint8 (H, W, 3) image."""
        import mediapipe as mp

        frame = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        with native_logs_filtered() if self._first else nullcontext():  # the first call logs one more line
            if self.mode == "video":
                timestamp_ms = max(int(timestamp_ms), self._last_ts + 1)  # MediaPipe requires strictly increasing
                self._last_ts = timestamp_ms
                result = self._landmarker.detect_for_video(frame, timestamp_ms)
            else:
                result = self._landmarker.detect(frame)
        self._first = False
        return to_detections(result)


def to_detections(result) -> Detections:
    faces = result.face_landmarks
    if not faces:
        return Detections.empty()
    landmarks = np.array([[(p.x, p.y, p.z) for p in face] for face in faces], np.float32)
    blendshapes = np.array([[c.score for c in face] for face in result.face_blendshapes], np.float32)
    matrices = np.array(result.facial_transformation_matrixes, np.float32).reshape(len(faces), 4, 4)
    return Detections(landmarks, blendshapes, matrices)


# The 52 categories in model output order (MediaPipe face_blendshapes v2; checked against the model by the tests).
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft",
    "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft",
    "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft",
    "jawOpen", "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft",
    "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
