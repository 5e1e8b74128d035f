"""How per-frame face metric values become one number per face, and why NaN is not zero.

A frame where either face (generated or reference) was not seen has no value: it is NaN, excluded
from the mean, and counted against ``coverage``. Scoring an unseen face as zero would reward methods
that destroy faces (LMD/AED/APD/MAE are lower-is-better).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaceScore:
    value: float  # mean over frames with a value; NaN when there is none
    coverage: float  # fraction of frames with a value
    frames: int  # frames with a value


def reduce_frames(per_frame: np.ndarray) -> FaceScore:
    per_frame = np.asarray(per_frame, dtype=np.float64)
    finite = np.isfinite(per_frame)
    n = int(finite.sum())
    value = float(per_frame[finite].mean()) if n else float("nan")
    return FaceScore(value=value, coverage=n / len(per_frame) if len(per_frame) else 0.0, frames=n)


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
