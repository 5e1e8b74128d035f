"""Identity gap to the ground truth (self-reenactment).

Why (protocol v2): CSIM against the portrait is maximised by copying the portrait; in single/self the
static baseline scored 0.9994, above the ground truth's own 0.9825. The ground truth is the same
person moving, so its CSIM is what a faithful method should reach: the gap |CSIM(generated) -
CSIM(ground truth)| is 0 for a faithful method and grows both for copying (too similar) and for losing
identity (too different).
"""

from __future__ import annotations

import numpy as np

from exprbench.metrics.csim import csim_per_frame
from exprbench.metrics.face_base import FacePair, FaceScore, covered
from exprbench.metrics.registry import MetricSpec, register_metric


def csim_gap(portrait_embedding: np.ndarray, generated: np.ndarray, ground_truth: np.ndarray) -> float:
    """(128,), and (F, 128) embeddings of the generated and ground-truth faces (NaN rows where not
    embedded) -> the absolute difference of their mean CSIM; NaN if either is never embedded."""
    g = csim_per_frame(portrait_embedding, generated)
    t = csim_per_frame(portrait_embedding, ground_truth)
    g, t = g[np.isfinite(g)], t[np.isfinite(t)]
    if not g.size or not t.size:
        return float("nan")
    return float(abs(g.mean() - t.mean()))


def identity_gap(face: FacePair) -> FaceScore:
    """Covered where the ground-truth face is found and the generated one too (embeddings are sampled)."""
    value = csim_gap(face.portrait_identity, face.generated["identity"], face.reference["identity"])
    return FaceScore(value, covered(face.generated_present, face.reference_present))


register_metric(MetricSpec.from_protocol("csim_gap", "face", identity_gap, consumes=("identity",)))
