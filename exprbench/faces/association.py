"""Explicit pairing of two face sets: portrait faces vs a video's tracks, or driving vs generated.

FantasyPortrait pairs characters by left-to-right order of box x-centres and never checks it. Here
the pairing is computed and returned, so a caller can see (and report) every face that did not pair:

- both sides are put in normalised image coordinates (boxes / image size), so a 512x512 portrait can
  be matched to a 1280x720 video;
- ``method="position"``: Hungarian assignment on ``(1 - IoU) + centre distance`` (in units of the
  image diagonal); a pair farther apart than ``max_distance`` is refused and both faces stay unmatched;
- ``method="order"``: the i-th face from the left pairs with the i-th track from the left (the
  FantasyPortrait convention); faces beyond the shorter list are unmatched.
``Association.order_consistent`` says whether the position pairing agrees with left-to-right order,
which is the cheap check for a swapped pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy.optimize import linear_sum_assignment

from exprbench.faces.geometry import box_centres, box_iou
from exprbench.faces.result import FaceTracks

DEFAULT_MAX_DISTANCE = 0.25


@dataclass(frozen=True)
class Association:
    mapping: dict[int, int | None]  # reference index -> track index (column in the FaceTracks arrays)
    unmatched_reference: list[int]
    unmatched_tracks: list[int]
    method: str
    distances: dict[int, float]  # reference index -> normalised centre distance of its pair
    order_consistent: bool  # matched pairs keep the same left-to-right order on both sides


def _normalise(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    return np.asarray(boxes, np.float64).reshape(-1, 4) / np.array([w, h, w, h], np.float64)


def associate(reference_boxes: np.ndarray, tracks: FaceTracks, *, reference_size: tuple[int, int] | None = None,
              track_boxes: np.ndarray | None = None, method: str = "position",
              max_distance: float = DEFAULT_MAX_DISTANCE) -> Association:
    """Pair (M, 4) reference boxes with the tracks of ``tracks``.

    ``reference_size`` is the (width, height) of the image the reference boxes are in (default: the
    tracks' frame size). ``track_boxes`` overrides the track positions used (default: each track's box
    at its first appearance, ``FaceTracks.first_boxes()``).
    """
    if method not in ("position", "order"):
        raise ValueError(f"method must be 'position' or 'order', got {method!r}")
    ref = _normalise(reference_boxes, reference_size or (tracks.width, tracks.height))
    trk = _normalise(tracks.first_boxes() if track_boxes is None else track_boxes, (tracks.width, tracks.height))
    m, n = len(ref), len(trk)
    distance = np.linalg.norm(box_centres(ref)[:, None] - box_centres(trk)[None], axis=2) / np.sqrt(2)
    mapping: dict[int, int | None] = {i: None for i in range(m)}
    if m and n:
        if method == "order":
            ref_order = np.argsort(box_centres(ref)[:, 0], kind="stable")
            trk_order = np.argsort(box_centres(trk)[:, 0], kind="stable")
            for r, t in zip(ref_order, trk_order):
                mapping[int(r)] = int(t)
        else:
            cost = (1 - box_iou(ref, trk)) + distance
            for r, t in zip(*linear_sum_assignment(cost)):
                if distance[r, t] <= max_distance:
                    mapping[int(r)] = int(t)
    used = {t for t in mapping.values() if t is not None}
    pairs = sorted((box_centres(ref)[r, 0], box_centres(trk)[t, 0]) for r, t in mapping.items() if t is not None)
    return Association(
        mapping=mapping,
        unmatched_reference=[r for r, t in mapping.items() if t is None],
        unmatched_tracks=[t for t in range(n) if t not in used],
        method=method,
        distances={r: float(distance[r, t]) for r, t in mapping.items() if t is not None},
        order_consistent=all(a[1] < b[1] for a, b in pairwise(pairs)),
    )


def associate_tracks(reference: FaceTracks, tracks: FaceTracks, **kwargs: object) -> Association:
    """Pair the tracks of two analyses (e.g. driving vs generated) by their first-appearance boxes."""
    return associate(reference.first_boxes(), tracks, reference_size=(reference.width, reference.height), **kwargs)
