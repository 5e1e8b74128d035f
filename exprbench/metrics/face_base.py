"""The face-metric interface: what a face metric sees of one face (``FacePair``), what it returns
(``FaceScore``), and the protocol's rules for turning frames into one number and a coverage.

A frame where either face (generated or reference) was not seen has no value: it is NaN, excluded
from the mean, and counted against ``coverage``. Scoring an unseen face as zero would reward methods
that destroy faces (LMD/AED/APD/MAE are lower-is-better). Coverage follows ``PROTOCOL.coverage``: of
the frames where the reference has a value, the fraction where the metric has one too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FacePair:
    """One face of one item as a face metric sees it, every array over the item's ``n`` frames.

    ``generated`` and ``reference`` map the FaceTracks fields the metric consumes to per-frame values
    (NaN where the face or the value is absent; ``gaze`` is the combined both-eye vector); ``reference``
    is the driving face (cross mode) or the ground-truth face (self mode), empty when the metric needs
    none. ``portrait_identity`` is the portrait face's 128-d embedding. ``generated_present`` and
    ``reference_present`` say in which frames each face was found (all False when the reference face
    is absent). ``relative``: the protocol measures this metric as motion since a reference frame in
    the item's mode (``MetricProtocol.relative_in``).
    """

    generated: Mapping[str, np.ndarray]
    reference: Mapping[str, np.ndarray]
    portrait_identity: np.ndarray
    generated_present: np.ndarray
    reference_present: np.ndarray
    relative: bool


@dataclass(frozen=True)
class FaceScore:
    """One face's number (NaN when nothing could be measured) and its frame coverage."""

    value: float
    coverage: float


def frame_mean(per_frame: np.ndarray) -> float:
    """The protocol's per-video reduction of a face metric: the mean over frames with a value; NaN if none."""
    per_frame = np.asarray(per_frame, dtype=np.float64)
    finite = np.isfinite(per_frame)
    return float(per_frame[finite].mean()) if finite.any() else float("nan")


def covered(measured: np.ndarray, reference: np.ndarray) -> float:
    """Frame coverage (``PROTOCOL.coverage``): of the frames where the reference has a value, the
    fraction where the metric has one too; 0 when the reference never has a value."""
    return float((measured & reference).sum() / reference.sum()) if reference.any() else 0.0


def valid_frames(values: np.ndarray) -> np.ndarray:
    """(F,) bool: frames whose value is finite in every component."""
    return np.isfinite(values.reshape(len(values), -1)).all(axis=1)


def per_frame_score(per_frame: np.ndarray, reference: np.ndarray) -> FaceScore:
    """A per-frame metric against a reference field: the frame mean, covered where ``reference`` has values."""
    return FaceScore(frame_mean(per_frame), covered(np.isfinite(per_frame), valid_frames(reference)))


def frame_metric(field: str, per_frame: Callable[..., np.ndarray]) -> Callable[[FacePair], FaceScore]:
    """The face metric that compares ``field`` frame by frame: ``per_frame(generated, reference,
    relative=...)`` reduced by the protocol's rule and covered where the reference has the field."""
    def score(face: FacePair) -> FaceScore:
        reference = face.reference[field]
        return per_frame_score(per_frame(face.generated[field], reference, relative=face.relative), reference)

    score.__name__ = per_frame.__name__.removesuffix("_per_frame")
    return score


def paired_frames(generated: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Align two per-frame arrays on the time axis (the shorter length wins; validation ran before)."""
    n = min(len(generated), len(reference))
    return np.asarray(generated[:n], dtype=np.float64), np.asarray(reference[:n], dtype=np.float64)


def reference_frame(generated: np.ndarray, reference: np.ndarray) -> int | None:
    """The frame that relative-motion metrics measure from: the first one in which both faces have a
    value (``PROTOCOL`` entries with ``relative_in``); None when there is none."""
    g = np.isfinite(generated.reshape(len(generated), -1)).all(axis=1)
    r = np.isfinite(reference.reshape(len(reference), -1)).all(axis=1)
    both = np.flatnonzero(g & r)
    return int(both[0]) if both.size else None


def relative_to(values: np.ndarray, frame: int, wrap_degrees: bool = False) -> np.ndarray:
    """``values[t] - values[frame]`` for every t (angles wrapped to [-180, 180) when asked)."""
    diff = values - values[frame]
    return (diff + 180.0) % 360.0 - 180.0 if wrap_degrees else diff
