"""Two toy metrics in one module, written the way a metric module of ``exprbench/metrics/`` is: it
defines its metrics and registers them at its bottom. ``test_metric_extension.py`` adds their protocol
entries and imports this; nothing else in the toolkit is told about them.

- ``toy_blink``: a face metric consuming blendshapes: per frame, |generated - reference| of the left
  eye-blink coefficient.
- ``toy_mad``: a paired metric: per frame, the mean absolute pixel difference.
"""

import numpy as np
import torch

from exprbench.faces import BLENDSHAPE_NAMES
from exprbench.metrics import (
    FacePair,
    FaceScore,
    MetricSpec,
    PairedVideoMetric,
    register_metric,
)
from exprbench.metrics.face_base import paired_frames, per_frame_score

BLINK = BLENDSHAPE_NAMES.index("eyeBlinkLeft")


def toy_blink(face: FacePair) -> FaceScore:
    g, r = paired_frames(face.generated["blendshapes"], face.reference["blendshapes"])
    return per_frame_score(np.abs(g[:, BLINK] - r[:, BLINK]), face.reference["blendshapes"])


class ToyMad(PairedVideoMetric):
    name = "toy_mad"

    def _score_batch(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        return (generated - reference).abs().mean(dim=(1, 2, 3)).double().numpy()


register_metric(MetricSpec.from_protocol("toy_blink", "face", toy_blink, consumes=("blendshapes",)))
register_metric(MetricSpec.from_protocol("toy_mad", "paired", ToyMad))
