"""AED: average expression distance between generated and driving faces.

Definition (protocol v1): for each frame, the mean absolute difference (L1 averaged over
coefficients) between the 52 MediaPipe blendshape scores of the generated face and of the driving face,
then the mean over frames. The paper used an unnamed 3DMM; blendshapes are the expression
coefficients that run offline and everywhere (documented, versioned).
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_reduce import paired_frames
from exprbench.metrics.registry import MetricSpec, register_metric


def aed_per_frame(generated: np.ndarray, driving: np.ndarray) -> np.ndarray:
    """(F, 52) blendshapes each, NaN where absent -> (F,) mean L1."""
    g, d = paired_frames(generated, driving)
    return np.abs(g - d).mean(axis=-1)


register_metric(MetricSpec.from_protocol("aed", "face", aed_per_frame))
