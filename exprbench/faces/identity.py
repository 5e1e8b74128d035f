"""Face identity: dlib's 128-d ResNet embedding of the aligned face chip, and cosine similarity.

Alignment uses dlib's own 5-point shape predictor inside the MediaPipe face box (so the chip is made
exactly as the embedding network was trained: ``get_face_chip`` at 150 px, padding 0.25). dlib was
chosen because it is not the ArcFace family the generators train with (see the metric anchors: an
identity metric should not share the network the models optimise). Reference figures on real faces:
same person 0.12-0.19 Euclidean distance, different people 0.63-0.90.
"""

from __future__ import annotations

import numpy as np

from exprbench.assets import asset_path

EMBEDDING_DIM = 128
CHIP_SIZE = 150
CHIP_PADDING = 0.25


class IdentityEmbedder:
    """Loads the two dlib models once; ``embed(image, box)`` returns a (128,) float32 vector."""

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._shape = dlib.shape_predictor(str(asset_path("dlib_shape_predictor_5")))
        self._net = dlib.face_recognition_model_v1(str(asset_path("dlib_face_recognition")))

    def chip(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        """The aligned (150, 150, 3) face chip for the face in ``box`` (x0, y0, x1, y1 pixels)."""
        x0, y0, x1, y1 = (round(float(v)) for v in box)
        shape = self._shape(image, self._dlib.rectangle(x0, y0, x1, y1))
        return self._dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING)

    def embed(self, image: np.ndarray, box: np.ndarray) -> np.ndarray:
        return np.asarray(self._net.compute_face_descriptor(self.chip(image, box)), np.float32)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings; NaN if either is missing (NaN) or zero."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    norm = np.linalg.norm(a) * np.linalg.norm(b)
    if not np.isfinite(norm) or norm == 0:
        return float("nan")
    return float(a @ b / norm)
