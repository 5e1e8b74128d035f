"""CSIM: identity preservation, cosine similarity between the portrait face and generated frames.

Definition (protocol v1, unchanged in v2): the dlib ResNet 128-d embedding of the portrait's face (aligned 150 px chip)
against the embeddings of the generated face on the analysed frames (every k-th frame, k in the face
protocol), cosine similarity per frame, then the mean. Higher is better; ArcFace is not obtainable
offline, so numbers are not comparable to ArcFace-based CSIM (documented).
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_base import FacePair, FaceScore, covered, frame_mean
from exprbench.metrics.registry import MetricSpec, register_metric


def csim_per_frame(portrait_embedding: np.ndarray, generated: np.ndarray) -> np.ndarray:
    """(128,) and (F, 128) with NaN rows where not computed -> (F,) cosine similarities."""
    p = np.asarray(portrait_embedding, dtype=np.float64)
    g = np.asarray(generated, dtype=np.float64)
    norms = np.linalg.norm(g, axis=-1) * np.linalg.norm(p)
    return (g @ p) / norms


def csim(face: FacePair) -> FaceScore:
    """The portrait always has its embedding, so the coverage is the frames where the generated face is
    found (its embedding is sampled on every k-th of them)."""
    per_frame = csim_per_frame(face.portrait_identity, face.generated["identity"])
    everywhere = np.ones(len(per_frame), dtype=bool)
    return FaceScore(frame_mean(per_frame), covered(face.generated_present, everywhere))


register_metric(MetricSpec.from_protocol("csim", "face", csim, consumes=("identity",)))
