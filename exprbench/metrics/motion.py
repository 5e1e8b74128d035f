"""Motion transfer ratio: how much the generated face moves compared with its driver.

Why it exists (protocol v2): every distance metric of v1 can be passed, or even won, by a method that
does not move (the ``static`` baseline ranked above ``warp`` in single/cross), and identity metrics
reward it outright. This metric is 0 for a face that does not move and 1 for one that moves exactly as
much as its driver, so doing nothing can never pass unnoticed.

Definition: for expression (52 blendshapes, mean |x_t - x_ref|) and head pose (yaw, pitch, roll, mean
|wrap(p_t - p_ref)| in degrees), the mean motion since the reference frame (the first frame in which
both faces are found) over the frames where both are found, generated divided by driving = r; the part
scores min(r, 1 / r); a part whose driver moves less than the protocol floor is NaN; the metric is the
mean of the measured parts.
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.face_reduce import paired_frames, reference_frame, relative_to
from exprbench.metrics.registry import MetricSpec, register_metric
from exprbench.protocol import metric_protocol


def _part(generated: np.ndarray, reference: np.ndarray, floor: float, wrap: bool) -> float:
    g, r = paired_frames(generated, reference)
    ref = reference_frame(g, r)
    if ref is None:
        return float("nan")
    both = np.isfinite(g).all(axis=-1) & np.isfinite(r).all(axis=-1)
    gen_motion = np.abs(relative_to(g, ref, wrap)[both]).mean()
    ref_motion = np.abs(relative_to(r, ref, wrap)[both]).mean()
    if not ref_motion >= floor:
        return float("nan")
    if gen_motion == 0:
        return 0.0
    ratio = gen_motion / ref_motion
    return float(min(ratio, 1.0 / ratio))


def motion_ratio(generated_blendshapes: np.ndarray, reference_blendshapes: np.ndarray,
                 generated_pose: np.ndarray, reference_pose: np.ndarray) -> float:
    """(F, 52) and (F, 3) arrays of both faces, NaN where absent -> the motion score of one face."""
    entry = metric_protocol("motion")
    parts = [_part(generated_blendshapes, reference_blendshapes, entry.min_reference_expression, wrap=False),
             _part(generated_pose, reference_pose, entry.min_reference_pose_deg, wrap=True)]
    finite = [p for p in parts if np.isfinite(p)]
    return float(np.mean(finite)) if finite else float("nan")


register_metric(MetricSpec.from_protocol("motion", "face", motion_ratio, consumes="blendshapes+pose"))
