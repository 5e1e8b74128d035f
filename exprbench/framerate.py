"""Exact frame rates: the one place a rate given as a number becomes a rational.

Why: a benchmark's frame counts must not depend on float rounding. 120 frames at 29.97 fps last
120 * 1001 / 30000 = 4.004 s exactly, but 4.004 * 29.97 = 119.99988 in floats, so a float length check
refuses a clip that holds exactly the frames asked for. Rates written as 29.97, 59.94 or 23.976 are the
NTSC rates n * 1000 / 1001 (what cameras and FFmpeg actually use), so they map to those fractions; every
other rate is taken as the simplest fraction with a denominator of at most 1001.
"""

from __future__ import annotations

import math
from fractions import Fraction

NTSC_TOLERANCE = 1e-3  # |rate * 1.001 - n| below this means the NTSC rate n * 1000 / 1001


def exact_rate(fps: float | int | Fraction) -> Fraction:
    """The exact rational frame rate meant by ``fps`` (29.97 -> 30000/1001, 25.0 -> 25, 12.5 -> 25/2)."""
    if isinstance(fps, Fraction):
        rate = fps
    else:
        value = float(fps)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"frame rate must be a positive number, got {fps!r}")
        n = round(value * 1.001)
        if value == int(value):
            rate = Fraction(int(value))
        elif n > 0 and abs(value * 1.001 - n) < NTSC_TOLERANCE:
            rate = Fraction(n * 1000, 1001)
        else:
            rate = Fraction(value).limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f"frame rate must be positive, got {fps!r}")
    return rate


def frames_within(duration: Fraction, rate: Fraction, start: Fraction = Fraction(0)) -> int:
    """How many frames at ``rate`` a clip of ``duration`` seconds holds from ``start``: the number of
    sample times start + k / rate (k = 0, 1, ...) that lie before the clip's end. A clip holds N frames
    exactly when (N - 1) / rate < duration - start."""
    span = (duration - start) * rate
    return math.ceil(span) if span > 0 else 0
