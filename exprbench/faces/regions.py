"""Region mode: analyse faces at known positions, each in its own face-centred crop.

Why: ``analyze_video`` runs MediaPipe on the whole frame, whose short-range face detector misses
faces smaller than about a fifth of the frame (2 of the 5 people of the group photo when it is shown
as a video). When the caller already knows where the faces are (a benchmark item's portrait face
boxes, or the first frame of a multi-person driving video), each face is instead cut out in a square
crop of ``context`` x its size and run through its own landmarker in VIDEO mode, where it is large.

Protocol (``REGIONS_VERSION``):

- Track j is face j of ``boxes``: N == M always, in the caller's order (not re-sorted left to
  right), so the mapping is explicit. A face never found is a track of NaN with coverage 0.
- The crop side is fixed per face (``context`` x the larger side of its box, at least
  ``MIN_CROP_PX``) so the landmarker sees one consistent image size; parts outside the frame are
  black. With ``follow`` the crop centre moves to the previous frame's face centre; a face lost in a
  frame is NaN there and its crop stays at the last known position.
- In each crop the face nearest the crop centre is kept; one whose centre is farther than
  ``MAX_OFFSET`` x the face size from the crop centre is someone else (a neighbour cut by the crop)
  and is reported in ``skipped``; that face's landmarker is then restarted, because in VIDEO mode it
  would keep tracking the neighbour instead of searching again.
- Landmarks are mapped back to full-frame normalised coordinates (x / frame width, y / frame height,
  z scaled like x) so every measure compares with full-frame analysis. Blendshapes are unchanged.
  Head pose comes from the crop's transformation matrix: MediaPipe's geometry assumes a virtual
  perspective camera centred on the image it sees, so a face off the frame centre gets the pose it
  would have if it sat on the optical axis. Measured on the Pexels clip at 4 fps (face ~260 px, ~130 px
  right of the frame centre): region yaw - full-frame yaw = +4.6 deg median, pitch -1.0, roll -0.7;
  per-axis correlation over time 0.99. So compare poses within one mode (region vs region), never
  region against full frame. Landmarks agree to 0.005 normalised (median of the per-frame mean).
- Identity: dlib on the full frame inside the mapped box, on every ``identity_every``-th frame the
  face is present.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exprbench.faces import cache as face_cache
from exprbench.faces.analyze import (
    ANALYSER_VERSION,
    assemble_tracks,
    frame_plan,
    to_full_frame,
    with_scale,
)
from exprbench.faces.budget import (
    analysis_scale,
    downscale_chunks,
    restore_scale,
    scaled_size,
)
from exprbench.faces.geometry import box_centres, boxes_from_landmarks
from exprbench.faces.identity import EMBEDDING_DIM, IdentityEmbedder
from exprbench.faces.landmarker import Detections, Landmarker
from exprbench.faces.result import FaceTracks, SkippedFace, empty_tracks
from exprbench.video import VideoFrames, frame_chunks, iter_frames, probe

log = logging.getLogger(__name__)

REGIONS_VERSION = "regions-1"
DEFAULT_CONTEXT = 2.2  # crop side / face size: the whole head plus margin for motion between frames
MIN_CROP_PX = 64
MAX_OFFSET = 0.6  # face-centre distance from the crop centre, in face sizes, beyond which it is another face
OUTSIDE_REGION = "face in the crop is off its region centre (another person or a cut face)"


@dataclass
class _Region:
    """One expected face: its crop geometry, its own VIDEO-mode landmarker and where it was last seen."""

    centre: np.ndarray  # (2,) pixels
    size: float
    side: int
    landmarker: Landmarker
    seen: int = 0

    def crop(self, image: np.ndarray) -> tuple[np.ndarray, int, int]:
        """The (side, side, 3) crop around ``centre`` and its top-left corner in the frame (may be negative)."""
        h, w = image.shape[:2]
        x0 = round(self.centre[0] - self.side / 2)
        y0 = round(self.centre[1] - self.side / 2)
        x1, y1 = x0 + self.side, y0 + self.side
        if x0 >= 0 and y0 >= 0 and x1 <= w and y1 <= h:
            return image[y0:y1, x0:x1], x0, y0
        out = np.zeros((self.side, self.side, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if sx1 > sx0 and sy1 > sy0:
            out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
        return out, x0, y0

    def restart(self) -> None:
        self.landmarker.close()
        self.landmarker = Landmarker("video", 1)


def _check_boxes(boxes: np.ndarray, context: float, identity_every: int) -> np.ndarray:
    boxes = np.asarray(boxes, np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be (M, 4) x0, y0, x1, y1 pixels, got shape {boxes.shape}")
    if not np.isfinite(boxes).all() or np.any(boxes[:, 2] <= boxes[:, 0]) or np.any(boxes[:, 3] <= boxes[:, 1]):
        raise ValueError(f"boxes must be finite with x1 > x0 and y1 > y0, got {boxes.tolist()}")
    if context < 1:
        raise ValueError(f"context (crop side / face size) must be >= 1, got {context}")
    if identity_every < 0:
        raise ValueError(f"identity_every must be >= 0 (0 disables identity), got {identity_every}")
    return boxes


def _run_regions(frames: Iterable[np.ndarray], indices: np.ndarray, times: np.ndarray, width: int, height: int,
                 fps: float, boxes: np.ndarray, *, identity_every: int, context: float, follow: bool,
                 **extra: object) -> FaceTracks:
    """The per-frame loop: per face one crop, one landmarker call, one mapping back; ``frames``
    yields (n, H, W, 3) chunks. Boxes, pose and gaze are computed once at the end."""
    sizes = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    regions = [_Region(centre, float(size), max(MIN_CROP_PX, math.ceil(context * size)), Landmarker("video", 1))
               for centre, size in zip(box_centres(boxes), sizes)]
    embedder = IdentityEmbedder() if identity_every and len(regions) else None
    parts: list[Detections] = []
    rows_frame: list[int] = []
    rows_track: list[int] = []
    identity_rows: dict[int, np.ndarray] = {}
    skipped: list[SkippedFace] = []
    last_rows: tuple[int, int] = (0, 0)  # (first row, number of rows) of the previous analysed frame
    f = 0
    try:
        for chunk in frames:
            for image in chunk:
                if f and indices[f] == indices[f - 1]:  # the same source frame shown again: copy its rows
                    start, count = last_rows
                    parts.extend(parts[len(parts) - count:])
                    rows_frame.extend([f] * count)
                    rows_track.extend(rows_track[start:start + count])
                    last_rows = (len(rows_frame) - count, count)
                    f += 1
                    continue
                start = len(rows_frame)
                stamp = round(times[f] * 1000)
                for j, region in enumerate(regions):
                    crop, x0, y0 = region.crop(image)
                    found = region.landmarker.detect(crop, stamp)
                    if not len(found):
                        continue
                    found = to_full_frame(found, x0, y0, region.side, region.side, width, height)
                    found_boxes = boxes_from_landmarks(found.landmarks, width, height)
                    offsets = np.linalg.norm(box_centres(found_boxes) - region.centre, axis=1)
                    k = int(np.argmin(offsets))
                    if offsets[k] > MAX_OFFSET * region.size:
                        skipped.append(SkippedFace(f, OUTSIDE_REGION, tuple(round(float(v), 1) for v in found_boxes[k])))
                        region.restart()
                        continue
                    parts.append(found.take(np.array([k])))
                    rows_frame.append(f)
                    rows_track.append(j)
                    if embedder is not None and region.seen % identity_every == 0:
                        identity_rows[len(rows_frame) - 1] = embedder.embed(image, found_boxes[k])
                    region.seen += 1
                    if follow:
                        region.centre = box_centres(found_boxes[k:k + 1])[0]
                last_rows = (start, len(rows_frame) - start)
                f += 1
    finally:
        for region in regions:
            region.landmarker.close()
    extra = {"timestamps": times[:f], "frame_indices": indices[:f], **extra}
    if not regions:
        return empty_tracks(f, fps, width, height, skipped=skipped, **extra)
    identity = np.full((len(rows_frame), EMBEDDING_DIM), np.nan, np.float32)
    for row, vector in identity_rows.items():
        identity[row] = vector
    result = assemble_tracks(Detections.concat(parts), np.asarray(rows_frame, np.int64),
                             np.asarray(rows_track, np.int64), identity, f, len(regions), fps, width, height,
                             skipped=skipped, **extra)
    for j in np.flatnonzero(result.coverage() == 0) if f else ():
        log.warning("%s: no face found in region %d %s", extra.get("source") or "clip", j,
                    [round(float(v), 1) for v in boxes[j]])
    return result


def _params(boxes: np.ndarray, identity_every: int, context: float, follow: bool, fps: float | None,
            max_frames: int | None, scale: float = 1.0) -> dict:
    return with_scale({"version": ANALYSER_VERSION, "mode": REGIONS_VERSION, "boxes": np.round(boxes, 2).tolist(),
                       "identity_every": identity_every, "context": context, "follow": follow, "fps": fps,
                       "max_frames": max_frames, "max_offset": MAX_OFFSET, "min_crop_px": MIN_CROP_PX}, scale)


def _scaled_run(chunks, indices: np.ndarray, times: np.ndarray, width: int, height: int, fps: float,  # noqa: ANN001
                boxes: np.ndarray, scale: float, **kwargs: object) -> FaceTracks:
    """``_run_regions`` on frames downscaled to the pixel budget, mapped back to ``width`` x ``height``."""
    aw, ah = scaled_size(width, height, scale)
    factor = np.array([aw / width, ah / height] * 2)
    result = _run_regions(downscale_chunks(chunks, (aw, ah)), indices, times, aw, ah, fps, boxes * factor, **kwargs)
    return restore_scale(result, width, height, scale)


def analyze_regions(frames: np.ndarray | VideoFrames, fps: float, boxes: np.ndarray, *, identity_every: int = 5,
                    context: float = DEFAULT_CONTEXT, follow: bool = True) -> FaceTracks:
    """Analyse the faces expected at ``boxes`` ((M, 4) x0, y0, x1, y1 pixels of the frames) in a clip
    shown at ``fps``: an in-memory (T, H, W, 3) uint8 RGB array or a ``VideoFrames`` decoded chunk by
    chunk; track j is face j (no cache)."""
    boxes = _check_boxes(boxes, context, identity_every)
    if not isinstance(frames, VideoFrames):
        frames = np.asarray(frames)
    chunks, source = frame_chunks(frames)
    t, h, w = frames.shape[:3]
    scale = analysis_scale(w, h, source)
    return _scaled_run(chunks, np.arange(t), np.arange(t) / fps, w, h, fps, boxes, scale,
                       identity_every=identity_every, context=context, follow=follow,
                       params=_params(boxes, identity_every, context, follow, None, None, scale))


def analyze_video_regions(path: str | Path, boxes: np.ndarray, *, fps: float | None = None,
                          max_frames: int | None = None, identity_every: int = 5, context: float = DEFAULT_CONTEXT,
                          follow: bool = True, cache: bool = True) -> FaceTracks:
    """``analyze_regions`` on a video file: every frame (``fps=None``) or resampled to ``fps`` by
    timestamps; cached like ``analyze_video`` (the key includes the boxes and region parameters)."""
    boxes = _check_boxes(boxes, context, identity_every)
    path = Path(path)
    info = probe(path)
    scale = analysis_scale(info.width, info.height, path)
    params = _params(boxes, identity_every, context, follow, fps, max_frames, scale)

    def compute() -> FaceTracks:
        indices, times, rate = frame_plan(path, info, fps, max_frames)
        return _scaled_run(iter_frames(info, indices.tolist()), indices, times, info.width, info.height, rate,
                           boxes, scale, identity_every=identity_every, context=context, follow=follow,
                           source=str(path), params=params)

    return face_cache.cached(path, ANALYSER_VERSION, params, identity_every > 0, cache, compute)
