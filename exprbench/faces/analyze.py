"""The face-analysis entry points: ``analyze_video``, ``analyze_frames`` and ``analyze_image``.

Per frame the only work is one MediaPipe call, an array conversion, the size filter and the tracker
update (plus a dlib embedding on every ``identity_every``-th present frame of a track). Boxes, pose
and gaze are computed once for the whole clip from the stacked results, then scattered into the
(frame, track) arrays, so per-frame Python overhead stays small next to MediaPipe itself.

Images are analysed at several scales: MediaPipe's face detector is a short-range model that misses
faces smaller than about a fifth of the image (it finds 2 of the 5 people in the sample group
photo), so images are also scanned in overlapping tiles and duplicate faces are merged. Videos run
MediaPipe once per frame on the whole frame (VIDEO mode), which is what makes them fast; faces too
small for the short-range detector are therefore not found in videos.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from exprbench.faces import cache as face_cache
from exprbench.faces.geometry import (box_iou, boxes_from_landmarks, gaze_vectors, pose_from_matrices)
from exprbench.faces.identity import EMBEDDING_DIM, IdentityEmbedder
from exprbench.faces.landmarker import BLENDSHAPE_NAMES, Detections, Landmarker
from exprbench.faces.result import FaceTracks, SkippedFace, empty_tracks
from exprbench.faces.tracking import Tracker
from exprbench.video import frame_timestamps, iter_frames, load_image, probe, resample_indices

log = logging.getLogger(__name__)

ANALYSER_VERSION = "faces-1"
TOO_SMALL = "smaller than min_face_px"
DEFAULT_MAX_GAP_S = 1.0
_BLINK = [BLENDSHAPE_NAMES.index("eyeBlinkLeft"), BLENDSHAPE_NAMES.index("eyeBlinkRight")]


@dataclass
class _Collector:
    """Accumulates per-frame detections (online tracking, identity) and assembles ``FaceTracks``."""

    width: int
    height: int
    min_face_px: int
    identity_every: int
    max_gap: int
    embedder: IdentityEmbedder | None = None
    tracker: Tracker = field(init=False)
    rows_frame: list[int] = field(default_factory=list)
    rows_track: list[int] = field(default_factory=list)
    parts: list[Detections] = field(default_factory=list)
    identity_rows: dict[int, np.ndarray] = field(default_factory=dict)
    seen: dict[int, int] = field(default_factory=dict)
    skipped: list[SkippedFace] = field(default_factory=list)
    _last: tuple[int, int, int] | None = None  # (frame, first row, number of rows) of the last analysed frame

    def __post_init__(self) -> None:
        self.tracker = Tracker(max_gap=self.max_gap)

    def add(self, frame: int, image: np.ndarray, found: Detections) -> None:
        start = len(self.rows_frame)
        self._last = (frame, start, 0)
        if not len(found):
            return
        boxes = boxes_from_landmarks(found.landmarks, self.width, self.height)
        size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        small = size < self.min_face_px
        for box in boxes[small]:
            self.skipped.append(SkippedFace(frame, TOO_SMALL, tuple(round(float(v), 1) for v in box)))
        if small.any():
            found, boxes = found.take(~small), boxes[~small]
            if not len(found):
                return
        ids = self.tracker.update(frame, boxes)
        self.parts.append(found)
        self.rows_frame.extend([frame] * len(ids))
        self.rows_track.extend(ids)
        for row, raw_id in enumerate(ids):
            count = self.seen.get(raw_id, 0)
            self.seen[raw_id] = count + 1
            if self.embedder is not None and count % self.identity_every == 0:
                self.identity_rows[start + row] = self.embedder.embed(image, boxes[row])
        self._last = (frame, start, len(ids))

    def repeat(self, frame: int) -> None:
        """The same source frame shown again (resampling to a higher fps): copy the last frame's rows."""
        if self._last is None:
            return
        _, start, count = self._last
        if count:
            self.parts.append(self.parts[-1])
            self.rows_frame.extend([frame] * count)
            self.rows_track.extend(self.rows_track[start:start + count])
        self._last = (frame, len(self.rows_frame) - count, count)

    def result(self, n_frames: int, fps: float, **extra: object) -> FaceTracks:
        skipped = self.skipped
        if not self.rows_frame:
            return empty_tracks(n_frames, fps, self.width, self.height, skipped=skipped, **extra)
        found = Detections.concat(self.parts)
        order = self.tracker.left_to_right()
        column = np.empty(len(order), np.int64)
        column[order] = np.arange(len(order))
        frames = np.asarray(self.rows_frame)
        tracks = column[np.asarray(self.rows_track)]
        n = len(order)

        def scatter(values: np.ndarray) -> np.ndarray:
            out = np.full((n_frames, n) + values.shape[1:], np.nan, np.float32)
            out[frames, tracks] = values
            return out

        identity = np.full((len(frames), EMBEDDING_DIM), np.nan, np.float32)
        for row, vector in self.identity_rows.items():
            identity[row] = vector
        blink = found.blendshapes[:, _BLINK]
        return FaceTracks(
            n_frames=n_frames, fps=fps, width=self.width, height=self.height, track_ids=list(range(n)),
            boxes=scatter(boxes_from_landmarks(found.landmarks, self.width, self.height)),
            landmarks=scatter(found.landmarks), blendshapes=scatter(found.blendshapes),
            pose=scatter(pose_from_matrices(found.matrices)),
            gaze=scatter(gaze_vectors(found.landmarks, found.matrices, blink, self.width, self.height)),
            identity=scatter(identity), skipped=skipped, **extra)


def _check_params(num_faces: int, identity_every: int, min_face_px: int) -> None:
    if num_faces < 1:
        raise ValueError(f"num_faces must be >= 1, got {num_faces}")
    if identity_every < 0:
        raise ValueError(f"identity_every must be >= 0 (0 disables identity), got {identity_every}")
    if min_face_px < 0:
        raise ValueError(f"min_face_px must be >= 0, got {min_face_px}")


def _run_video(frames: Iterable[np.ndarray], indices: np.ndarray, times: np.ndarray, width: int, height: int,
               fps: float, *, num_faces: int, identity_every: int, min_face_px: int, max_gap_s: float,
               **extra: object) -> FaceTracks:
    """The per-frame loop shared by files and in-memory clips. ``frames`` yields (n, H, W, 3) chunks."""
    collector = _Collector(width, height, min_face_px, identity_every, max(1, math.ceil(max_gap_s * fps)),
                           IdentityEmbedder() if identity_every else None)
    f = 0
    with Landmarker("video", num_faces) as landmarker:
        for chunk in frames:
            for image in chunk:
                if f and indices[f] == indices[f - 1]:
                    collector.repeat(f)
                else:
                    collector.add(f, image, landmarker.detect(image, int(round(times[f] * 1000))))
                f += 1
    result = collector.result(f, fps, timestamps=times[:f], frame_indices=indices[:f], **extra)
    if result.n_tracks == 0 and f:
        log.warning("%s: no face found in %d frames (MediaPipe sees human faces larger than about %d px here; "
                    "non-human or tiny faces show as coverage 0)", extra.get("source") or "clip", f,
                    min(width, height) // 5)
    return result


def analyze_frames(frames: np.ndarray, fps: float, *, num_faces: int = 4, identity_every: int = 5,
                   min_face_px: int = 32, max_gap_s: float = DEFAULT_MAX_GAP_S) -> FaceTracks:
    """Analyse an in-memory clip (T, H, W, 3) uint8 RGB shown at ``fps`` (no cache)."""
    _check_params(num_faces, identity_every, min_face_px)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames (T, H, W, 3), got {frames.dtype} {frames.shape}")
    t, h, w = frames.shape[:3]
    params = _params(num_faces, identity_every, min_face_px, None, None, max_gap_s)
    return _run_video([frames], np.arange(t), np.arange(t) / fps, w, h, fps, num_faces=num_faces,
                      identity_every=identity_every, min_face_px=min_face_px, max_gap_s=max_gap_s,
                      params=params)


def analyze_video(path: str | Path, *, num_faces: int = 4, identity_every: int = 5, min_face_px: int = 32,
                  fps: float | None = None, max_frames: int | None = None, cache: bool = True,
                  max_gap_s: float = DEFAULT_MAX_GAP_S) -> FaceTracks:
    """Analyse every frame of a video (``fps=None``) or the frames resampled to ``fps`` by timestamps.

    The result is cached by content hash, analyser version, parameters and model sha256s; a second
    call on the same file loads it instead of recomputing.
    """
    _check_params(num_faces, identity_every, min_face_px)
    path = Path(path)
    info = probe(path)
    params = _params(num_faces, identity_every, min_face_px, fps, max_frames, max_gap_s)
    key = face_cache.cache_key(path, ANALYSER_VERSION, params, identity=identity_every > 0) if cache else None
    if key is not None:
        hit = face_cache.load(key)
        if hit is not None:
            return hit
    stamps = frame_timestamps(path)[:info.n_frames]
    if fps is None:
        indices = np.arange(len(stamps))[:max_frames]
        times, rate = stamps[indices], info.fps
    else:
        indices = resample_indices(stamps, fps, max_frames=max_frames)
        times, rate = np.arange(len(indices)) / fps, fps
    result = _run_video(iter_frames(info, indices.tolist()), indices, times, info.width, info.height, rate,
                        num_faces=num_faces, identity_every=identity_every, min_face_px=min_face_px,
                        max_gap_s=max_gap_s, source=str(path), params=params)
    if key is not None:
        face_cache.store(key, result)
    return result


def _params(num_faces: int, identity_every: int, min_face_px: int, fps: float | None, max_frames: int | None,
            max_gap_s: float) -> dict:
    return {"version": ANALYSER_VERSION, "num_faces": num_faces, "identity_every": identity_every,
            "min_face_px": min_face_px, "fps": fps, "max_frames": max_frames, "max_gap_s": max_gap_s}


# ---- still images -----------------------------------------------------------------------------------

TILE_FRACTION = 0.5  # tile side as a fraction of the shorter image side; tiles overlap by half
DUPLICATE_IOU = 0.3


def _tiles(width: int, height: int, min_face_px: int) -> list[tuple[int, int, int]]:
    """(x0, y0, side) of half-overlapping square tiles; none if a tile could not hold a usable face."""
    side = int(min(width, height) * TILE_FRACTION)
    if side < max(4 * min_face_px, 96):
        return []
    step = side // 2

    def starts(extent: int) -> list[int]:
        return sorted(set(list(range(0, extent - side + 1, step)) + [extent - side]))

    return [(x, y, side) for y in starts(height) for x in starts(width)]


def _detect_multiscale(image: np.ndarray, num_faces: int, min_face_px: int) -> Detections:
    """Faces from the whole image plus overlapping tiles, duplicates merged.

    A face seen in several windows keeps the detection whose box is farthest (relative to its size)
    from a window edge that is not an image edge, so faces cut by a tile border lose to whole ones.
    """
    h, w = image.shape[:2]
    candidates: list[Detections] = []
    margins: list[np.ndarray] = []
    with Landmarker("image", num_faces) as landmarker:
        found = landmarker.detect(image)
        candidates.append(found)
        margins.append(np.full(len(found), np.inf))
        for x0, y0, side in _tiles(w, h, min_face_px):
            found = landmarker.detect(image[y0:y0 + side, x0:x0 + side])
            if not len(found):
                continue
            boxes = boxes_from_landmarks(found.landmarks, side, side)
            size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) + 1e-6
            inner = np.stack([
                np.where(x0 > 0, boxes[:, 0], np.inf), np.where(y0 > 0, boxes[:, 1], np.inf),
                np.where(x0 + side < w, side - boxes[:, 2], np.inf), np.where(y0 + side < h, side - boxes[:, 3], np.inf),
            ], axis=1).min(axis=1)
            landmarks = found.landmarks.copy()
            landmarks[..., 0] = (landmarks[..., 0] * side + x0) / w
            landmarks[..., 1] = (landmarks[..., 1] * side + y0) / h
            landmarks[..., 2] = landmarks[..., 2] * side / w
            candidates.append(Detections(landmarks, found.blendshapes, found.matrices))
            margins.append(inner / size)
    everything = Detections.concat(candidates)
    margin = np.concatenate(margins)
    boxes = boxes_from_landmarks(everything.landmarks, w, h)
    overlap = box_iou(boxes, boxes)
    keep: list[int] = []
    for i in np.argsort(-margin, kind="stable"):
        if all(overlap[i, j] < DUPLICATE_IOU for j in keep):
            keep.append(int(i))
    return everything.take(np.asarray(sorted(keep), np.int64))


def analyze_image(image: str | Path | np.ndarray, *, num_faces: int = 8, min_face_px: int = 32,
                  identity: bool = True) -> FaceTracks:
    """Analyse a still image (path or RGB uint8 array): one frame, one track per face, left to right.

    ``num_faces`` caps the faces returned (the largest are kept).
    """
    _check_params(num_faces, 1, min_face_px)
    source = ""
    if not isinstance(image, np.ndarray):
        source = str(image)
        image = load_image(image)
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    found = _detect_multiscale(image, num_faces, min_face_px)
    if len(found) > num_faces:
        boxes = boxes_from_landmarks(found.landmarks, w, h)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        found = found.take(np.sort(np.argsort(-area, kind="stable")[:num_faces]))
    collector = _Collector(w, h, min_face_px, identity_every=1, max_gap=1,
                           embedder=IdentityEmbedder() if identity else None)
    collector.add(0, image, found)
    params = {"version": ANALYSER_VERSION, "num_faces": num_faces, "min_face_px": min_face_px, "identity": identity}
    result = collector.result(1, 0.0, source=source, params=params)
    if result.n_tracks == 0:
        log.warning("%s: no face found (non-human or tiny faces show as coverage 0)", source or "image")
    return result



