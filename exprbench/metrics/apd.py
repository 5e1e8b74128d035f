"""APD: average pose distance between generated and driving heads (cross-reenactment).

Definition (protocol v2): per frame, the mean over yaw, pitch and roll (degrees, from MediaPipe's
facial transformation matrix) of the absolute difference between the generated head's rotation since
the reference frame and the driving head's since the same frame (all differences wrapped to
[-180, 180)); then the mean over frames. ``apd_abs`` keeps the v1 absolute form.
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


def _wrap(x: np.ndarray) -> np.ndarray:
    return (x + 180.0) % 360.0 - 180.0


def apd_per_frame(generated: np.ndarray, driving: np.ndarray, relative: bool = False) -> np.ndarray:
    """(F, 3) yaw/pitch/roll in degrees each, NaN where absent -> (F,) mean absolute difference."""
    g, d = paired_frames(generated, driving)
    if relative:
        ref = reference_frame(g, d)
        if ref is None:
            return np.full(len(g), np.nan)
        g, d = relative_to(g, ref, wrap_degrees=True), relative_to(d, ref, wrap_degrees=True)
    return np.abs(_wrap(g - d)).mean(axis=-1)


def apd_abs_per_frame(generated: np.ndarray, driving: np.ndarray, relative: bool = False) -> np.ndarray:
    """The v1 definition, whatever the mode: absolute angles."""
    return apd_per_frame(generated, driving, relative=False)


register_metric(MetricSpec.from_protocol("apd", "face", frame_metric("pose", apd_per_frame),
                                          consumes=("pose",)))
register_metric(MetricSpec.from_protocol("apd_abs", "face", frame_metric("pose", apd_abs_per_frame),
                                          consumes=("pose",)))
