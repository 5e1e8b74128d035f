"""The coarse face-count pre-pass: reject shots that plainly lack faces before the full analysis.

Most candidate shots of a web corpus show one person or none, and the full face analysis (MediaPipe on
every frame sampled at ``analysis_fps``) was most of the build's time. While the shot split decodes the
source anyway, frames on a global ``prepass_fps`` grid (1 fps by default) go through the landmarker and
only the number of faces (at least ``detect_min_face_px``) per frame is kept (``FaceCounter``, run by
the shot split). A candidate whose pre-pass frames show ``min_faces`` faces in fewer than
``prepass_min_fraction`` of them is dropped by its own filter stage (``multiexpr.stages.faces.PrepassFilter``,
stage ``prepass``) with the face count's reason code (``too_few_faces``), before the full analysis.

Why this rarely differs from the full rule: to pass, ``min_faces`` faces must each be present in
``min_presence`` (90%) of the analysed frames, so at least ``min_faces`` faces are visible together in
``1 - min_faces * (1 - min_presence)`` (80% for two faces) of them. The pre-pass asks for half, a margin
for detector noise and the coarser sampling. The landmarker runs one instance per source, fresh for
every source, so the counts do not depend on which worker or in which order sources are processed.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from exprbench.faces.geometry import boxes_from_landmarks


class FaceCounter:
    """Faces per frame from one MediaPipe landmarker in VIDEO mode; use as a context manager."""

    def __init__(self, max_faces: int, min_face_px: int) -> None:
        from exprbench.faces.landmarker import Landmarker

        self.min_face_px = min_face_px
        self._landmarker = Landmarker("video", max_faces)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._landmarker.close()

    def count(self, image: np.ndarray, time_s: float) -> int:
        """Faces at least ``min_face_px`` (longer box side, as the full analysis measures it) in ``image``."""
        found = self._landmarker.detect(image, round(time_s * 1000))
        if not len(found):
            return 0
        h, w = image.shape[:2]
        boxes = boxes_from_landmarks(found.landmarks, w, h)
        size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        return int((size >= self.min_face_px).sum())

