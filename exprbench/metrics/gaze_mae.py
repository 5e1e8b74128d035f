"""MAE: mean angular error of eye gaze between generated and reference faces, in degrees.

Definition (protocol v1): for each frame, the angle between the combined (both-eye) gaze unit vectors
of the generated and the reference face, both in their head frames (so head rotation is not counted
twice; APD measures it), then the mean over frames. Reference is the ground truth in self-reenactment
and the driving face in cross-reenactment.
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_reduce import paired_frames
from exprbench.metrics.registry import MetricSpec, register_metric


def gaze_mae_per_frame(generated: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(F, 3) unit gaze vectors each, NaN where absent -> (F,) angles in degrees."""
    g, r = paired_frames(generated, reference)
    g = g / np.linalg.norm(g, axis=-1, keepdims=True)
    r = r / np.linalg.norm(r, axis=-1, keepdims=True)
    cos = np.clip((g * r).sum(axis=-1), -1.0, 1.0)
    return np.degrees(np.arccos(cos))


register_metric(MetricSpec.from_protocol("mae", "face", gaze_mae_per_frame))
