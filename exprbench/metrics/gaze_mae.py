"""MAE: eye-gaze error between generated and reference faces, in degrees.

Definition (protocol v2): self mode, per frame, the angle between the combined (both-eye) gaze unit
vectors of the generated and the ground-truth face, both in their head frames (so head rotation is not
counted twice; APD measures it). Cross mode, relative motion: the gaze direction's yaw and pitch (head
frame, degrees) change since the reference frame, generated against driving, as the Euclidean norm of
the difference. ``mae_abs`` keeps the v1 absolute angle in cross mode. Then the mean over frames.
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_base import (
    frame_metric,
    paired_frames,
    reference_frame,
    relative_to,
)
from exprbench.metrics.registry import MetricSpec, register_metric


def gaze_angles(vectors: np.ndarray) -> np.ndarray:
    """(F, 3) head-frame gaze vectors (z towards the viewer) -> (F, 2) yaw, pitch in degrees."""
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    return np.degrees(np.stack([np.arctan2(x, z), np.arctan2(y, np.hypot(x, z))], axis=-1))


def gaze_mae_per_frame(generated: np.ndarray, reference: np.ndarray, relative: bool = False) -> np.ndarray:
    """(F, 3) unit gaze vectors each, NaN where absent -> (F,) errors in degrees."""
    g, r = paired_frames(generated, reference)
    if relative:
        ref = reference_frame(g, r)
        if ref is None:
            return np.full(len(g), np.nan)
        dg, dr = relative_to(gaze_angles(g), ref), relative_to(gaze_angles(r), ref)
        return np.linalg.norm(dg - dr, axis=-1)
    g = g / np.linalg.norm(g, axis=-1, keepdims=True)
    r = r / np.linalg.norm(r, axis=-1, keepdims=True)
    cos = np.clip((g * r).sum(axis=-1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


def gaze_mae_abs_per_frame(generated: np.ndarray, reference: np.ndarray, relative: bool = False) -> np.ndarray:
    """The v1 definition, whatever the mode: the absolute angle between gaze directions."""
    return gaze_mae_per_frame(generated, reference, relative=False)


register_metric(MetricSpec.from_protocol("mae", "face", frame_metric("gaze", gaze_mae_per_frame),
                                          consumes=("gaze",)))
register_metric(MetricSpec.from_protocol("mae_abs", "face", frame_metric("gaze", gaze_mae_abs_per_frame),
                                          consumes=("gaze",)))
