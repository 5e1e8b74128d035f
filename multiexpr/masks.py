"""The face-mask rule: how a training loader turns a stored face box into a mask.

Masks are not stored pixel by pixel: per frame and person the dataset stores the face box, and the mask
is derived by a named, versioned rule (``mask_rule`` in every row and in ``run_config.json``). This keeps
the schema small and fixed, and a user who wants a different mask (FantasyPortrait pads its face boxes)
derives it from the same boxes.

``ellipse-in-box-v1``: the box is grown about its centre by ``scale`` in both directions, and the mask is
the filled axis-aligned ellipse inscribed in the grown box, clipped to the frame. Absent faces (NaN box)
give an empty mask.
"""

from __future__ import annotations

import numpy as np

MASK_RULES = ("ellipse-in-box-v1",)


def face_mask(box: np.ndarray, height: int, width: int, scale: float = 1.2,
              rule: str = "ellipse-in-box-v1") -> np.ndarray:
    """Boolean (height, width) mask for one face box (x0, y0, x1, y1) under ``rule``."""
    if rule not in MASK_RULES:
        raise ValueError(f"unknown mask rule {rule!r}; known: {', '.join(MASK_RULES)}")
    box = np.asarray(box, dtype=np.float64)
    if not np.isfinite(box).all():
        return np.zeros((height, width), dtype=bool)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    rx, ry = (box[2] - box[0]) * scale / 2, (box[3] - box[1]) * scale / 2
    if rx <= 0 or ry <= 0:
        return np.zeros((height, width), dtype=bool)
    ys, xs = np.mgrid[0:height, 0:width]
    return ((xs + 0.5 - cx) / rx) ** 2 + ((ys + 0.5 - cy) / ry) ** 2 <= 1.0
