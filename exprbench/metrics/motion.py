"""Motion transfer ratio: how much the generated face moves compared with its driver.

Why it exists (protocol v2): every distance metric of v1 can be passed, or even won, by a method that
does not move (the ``static`` baseline ranked above ``warp`` in single/cross), and identity metrics
reward it outright. This metric is 0 for a face that does not move and 1 for one that moves exactly as
much as its driver, so doing nothing can never pass unnoticed.

Definition: for expression (52 blendshapes) and head pose (yaw, pitch, roll in degrees, wrapped), the
changes since the reference frame (the first frame in which both faces are found), g_t of the generated
face and d_t of the driver, over the frames where both are found. The transfer gain is the projection of
the generated motion on the driver's, k = sum <g_t, d_t> / sum <d_t, d_t>: 1 when the face moves like its
driver, 0 when it does not move, and also about 0 when it moves in ways unrelated to the driver
(measured: the analyser's own jitter on a frozen portrait is 0.01 blendshape units and 0.2-0.5 degrees in
region mode, about a third of a slow driver's motion, so a plain ratio of motion magnitudes scored a
frozen portrait 0.2-0.37; the projection is blind to motion the driver did not make). The part scores
min(k, 1 / k) for k > 0 and 0 otherwise; a part whose driver moves less than the protocol floor (mean
|d_t|) is NaN; the metric is the mean of the measured parts.
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_base import (
    FacePair,
    FaceScore,
    covered,
    paired_frames,
    reference_frame,
    relative_to,
)
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import metric_protocol


def _part(generated: np.ndarray, reference: np.ndarray, floor: float, wrap: bool) -> float:
    g, r = paired_frames(generated, reference)
    ref = reference_frame(g, r)
    if ref is None:
        return float("nan")
    both = np.isfinite(g).all(axis=-1) & np.isfinite(r).all(axis=-1)
    dg, dr = relative_to(g, ref, wrap)[both], relative_to(r, ref, wrap)[both]
    if not np.abs(dr).mean() >= floor:
        return float("nan")
    gain = float((dg * dr).sum() / (dr * dr).sum())
    return min(gain, 1.0 / gain) if gain > 0 else 0.0


def motion_ratio(generated_blendshapes: np.ndarray, reference_blendshapes: np.ndarray,
                 generated_pose: np.ndarray, reference_pose: np.ndarray) -> float:
    """(F, 52) and (F, 3) arrays of both faces, NaN where absent -> the motion score of one face."""
    entry = metric_protocol("motion")
    parts = [_part(generated_blendshapes, reference_blendshapes, entry.min_reference_expression, wrap=False),
             _part(generated_pose, reference_pose, entry.min_reference_pose_deg, wrap=True)]
    finite = [p for p in parts if np.isfinite(p)]
    return float(np.mean(finite)) if finite else float("nan")


def motion(face: FacePair) -> FaceScore:
    """Covered where the driving face is found and the generated one too."""
    g, r = face.generated, face.reference
    value = motion_ratio(g["blendshapes"], r["blendshapes"], g["pose"], r["pose"])
    return FaceScore(value, covered(face.generated_present, face.reference_present))


register_metric(MetricSpec.from_protocol("motion", "face", motion, consumes=("blendshapes", "pose")))
