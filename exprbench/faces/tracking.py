"""Online linking of per-frame face detections into tracks.

Each live track predicts where its face is now (last box shifted by a smoothed constant velocity, so
two faces moving past each other keep their own lanes), and detections are assigned to tracks with
the Hungarian algorithm on ``(1 - IoU) + centre distance / face size``. A pair is admissible only if
the boxes overlap (IoU >= ``min_iou``) or the centres are within ``max_centre_distance`` face sizes.
Unmatched detections start new tracks; a track that is not seen for more than ``max_gap`` frames
ends (a face that comes back later starts a new track, reported separately rather than guessed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from exprbench.faces.geometry import box_centres, box_iou, box_sizes

VELOCITY_SMOOTHING = 0.5


@dataclass
class _Track:
    raw_id: int
    box: np.ndarray
    last_frame: int
    first_frame: int
    first_box: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def predicted(self, frame: int) -> np.ndarray:
        shift = self.velocity * (frame - self.last_frame)
        return self.box + np.concatenate([shift, shift])


class Tracker:
    def __init__(self, max_gap: int, min_iou: float = 0.05, max_centre_distance: float = 1.0) -> None:
        self.max_gap = max_gap
        self.min_iou = min_iou
        self.max_centre_distance = max_centre_distance
        self.tracks: list[_Track] = []

    def _live(self, frame: int) -> list[_Track]:
        return [t for t in self.tracks if frame - t.last_frame <= self.max_gap + 1]

    def update(self, frame: int, boxes: np.ndarray) -> list[int]:
        """Assign the (k, 4) ``boxes`` seen at ``frame``; returns the raw track id of each box."""
        live = self._live(frame)
        ids = [-1] * len(boxes)
        if live and len(boxes):
            predicted = np.stack([t.predicted(frame) for t in live])
            iou = box_iou(predicted, boxes)
            distance = (np.linalg.norm(box_centres(predicted)[:, None] - box_centres(boxes)[None], axis=2)
                        / box_sizes(predicted)[:, None])
            admissible = (iou >= self.min_iou) | (distance <= self.max_centre_distance)
            cost = np.where(admissible, (1 - iou) + distance, 1e6)
            for row, col in zip(*linear_sum_assignment(cost)):
                if admissible[row, col]:
                    self._observe(live[row], frame, boxes[col])
                    ids[col] = live[row].raw_id
        for col, raw_id in enumerate(ids):
            if raw_id < 0:
                box = np.asarray(boxes[col], np.float64)
                track = _Track(raw_id=len(self.tracks), box=box, last_frame=frame, first_frame=frame, first_box=box)
                self.tracks.append(track)
                ids[col] = track.raw_id
        return ids

    @staticmethod
    def _observe(track: _Track, frame: int, box: np.ndarray) -> None:
        box = np.asarray(box, np.float64)
        step = (box_centres(box)[0] - box_centres(track.box)[0]) / max(frame - track.last_frame, 1)
        track.velocity = VELOCITY_SMOOTHING * track.velocity + (1 - VELOCITY_SMOOTHING) * step
        track.box = box
        track.last_frame = frame

    def left_to_right(self) -> list[int]:
        """Raw ids ordered by the x-centre of the first box (FantasyPortrait's character order)."""
        return sorted((t.raw_id for t in self.tracks),
                      key=lambda i: (box_centres(self.tracks[i].first_box)[0, 0], self.tracks[i].first_frame))
