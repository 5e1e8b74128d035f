"""APD: average pose distance between generated and driving heads.

Definition (protocol v1): for each frame, the mean absolute difference of yaw, pitch and roll in
degrees (from MediaPipe's facial transformation matrix, differences wrapped to [-180, 180)), then the
mean over frames.
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_reduce import paired_frames
from exprbench.metrics.registry import MetricSpec, register_metric


def apd_per_frame(generated: np.ndarray, driving: np.ndarray) -> np.ndarray:
    """(F, 3) yaw/pitch/roll in degrees each, NaN where absent -> (F,) mean absolute difference."""
    g, d = paired_frames(generated, driving)
    diff = (g - d + 180.0) % 360.0 - 180.0
    return np.abs(diff).mean(axis=-1)


register_metric(MetricSpec.from_protocol("apd", "face", apd_per_frame))
