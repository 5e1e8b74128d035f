"""AED: average expression distance between generated and driving faces (cross-reenactment).

Definition (protocol v2): per frame, the mean absolute difference (L1 averaged over coefficients)
between the generated face's change of its 52 MediaPipe blendshape scores since the reference frame
and the driving face's change since the same frame; then the mean over frames. ``aed_abs`` keeps the
v1 form (absolute blendshapes), which scores the portrait's own resting expression as an error. The
paper used an unnamed 3DMM; blendshapes are the expression coefficients that run offline and
everywhere (documented, versioned).
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


def aed_per_frame(generated: np.ndarray, driving: np.ndarray, relative: bool = False) -> np.ndarray:
    """(F, 52) blendshapes each, NaN where absent -> (F,) mean L1 (of the changes when ``relative``)."""
    g, d = paired_frames(generated, driving)
    if relative:
        ref = reference_frame(g, d)
        if ref is None:
            return np.full(len(g), np.nan)
        g, d = relative_to(g, ref), relative_to(d, ref)
    return np.abs(g - d).mean(axis=-1)


def aed_abs_per_frame(generated: np.ndarray, driving: np.ndarray, relative: bool = False) -> np.ndarray:
    """The v1 definition, whatever the mode: absolute blendshapes."""
    return aed_per_frame(generated, driving, relative=False)


register_metric(MetricSpec.from_protocol("aed", "face", frame_metric("blendshapes", aed_per_frame),
                                          consumes=("blendshapes",)))
register_metric(MetricSpec.from_protocol("aed_abs", "face", frame_metric("blendshapes", aed_abs_per_frame),
                                          consumes=("blendshapes",)))
