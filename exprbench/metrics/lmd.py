"""LMD: landmark mean distance between generated and ground-truth faces (self-reenactment).

Definition (protocol v1, unchanged in v2): for each frame, the mean Euclidean distance between the 478 MediaPipe
FaceLandmarker landmarks of the generated and the ground-truth face, in normalised image coordinates
(x / width, y / height; z is ignored), then the mean over frames. The paper reports LMD x 10^-3, which
fits normalised coordinates; report the raw value and scale only for display.
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_base import frame_metric, paired_frames
from exprbench.metrics.registry import MetricSpec, register_metric


def lmd_per_frame(generated: np.ndarray, reference: np.ndarray, relative: bool = False) -> np.ndarray:
    """(F, 478, 3) landmarks each, NaN where absent -> (F,) distances."""
    g, r = paired_frames(generated, reference)
    return np.linalg.norm(g[..., :2] - r[..., :2], axis=-1).mean(axis=-1)


register_metric(MetricSpec.from_protocol("lmd", "face", frame_metric("landmarks", lmd_per_frame),
                                          consumes=("landmarks",)))
