"""The face metrics of one face, dispatched from the registry by what each metric consumes.

Eval knows no metric by name: for every registered ``face`` metric of the item's mode it builds a
``FacePair`` holding the FaceTracks fields the metric declares in ``consumes`` (generated face,
reference face, portrait identity) and writes the returned value and coverage under the metric's key.
A metric that needs a driving or ground-truth face (``needs`` in its protocol entry) scores NaN with
coverage 0 when that face is absent; it is never scored as zero.
"""

from __future__ import annotations

import math

import numpy as np

from exprbench.benchmark.manifest import Item
from exprbench.metrics import FacePair, FaceScore, MetricSpec, all_metrics
from exprbench.scoring.item_faces import ItemFaces, column, track_field
from exprbench.scoring.options import EvalOptions

_REFERENCE_NEEDS = {"driving", "ground_truth"}


def selected(options: EvalOptions, mode: str, kind: str) -> list[MetricSpec]:
    """The registered metrics of ``kind`` that apply in ``mode`` and that the run asked for."""
    return [spec for spec in all_metrics(kind) if options.selects(spec.name) and mode in spec.modes]


def needs_reference_identity(options: EvalOptions, mode: str) -> bool:
    """Whether a selected face metric compares identity with the reference face (the ground truth's own
    CSIM for csim_gap): only then are the reference videos embedded, which is slow."""
    return any("identity" in spec.consumes and set(spec.needs) & _REFERENCE_NEEDS
               for spec in selected(options, mode, "face"))


def _score(spec: MetricSpec, item: Item, faces: ItemFaces, j: int, n: int) -> FaceScore:
    gen, t = faces.generated, faces.gen_track[j]
    ref, rt = faces.driving[j]
    has_reference = ref is not None and rt is not None
    if set(spec.needs) & _REFERENCE_NEEDS and not has_reference:
        return FaceScore(math.nan, 0.0)
    present = column(gen.present(), t, n).astype(bool) if t is not None else np.zeros(n, bool)
    pair = FacePair(
        generated={f: track_field(gen, f, t, n) for f in spec.consumes},
        reference={f: track_field(ref, f, rt, n) for f in spec.consumes} if has_reference else {},
        portrait_identity=faces.portrait_identity[j],
        generated_present=present,
        reference_present=column(ref.present(), rt, n).astype(bool) if has_reference else np.zeros(n, bool),
        relative=item.mode in spec.protocol.relative_in)
    return spec.factory(pair)


def face_row(item: Item, faces: ItemFaces, j: int, n: int, options: EvalOptions) -> dict:
    """Face ``j``'s row: who it is, whether it was found, and each face metric's value and frame
    coverage (``K``, ``K_coverage``) in protocol order."""
    track = faces.gen_track[j]
    present = faces.generated.present()[:n, track] if track is not None else np.zeros(n, bool)
    row = {"item_id": item.id, "split": item.split, "mode": item.mode, "face": j, "n_faces": item.n_faces,
           "frames": n, "matched": bool(present.any()), "coverage": float(present.mean()) if n else 0.0}
    for spec in selected(options, item.mode, "face"):
        score = _score(spec, item, faces, j, n)
        row[spec.key], row[f"{spec.key}_coverage"] = score.value, score.coverage
    return row
