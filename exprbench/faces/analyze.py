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
from exprbench.faces.budget import (
    analysis_scale,
    downscale_chunks,
    restore_scale,
    scaled_size,
)
from exprbench.faces.geometry import (
    box_iou,
    boxes_from_landmarks,
    gaze_vectors,
    pose_from_matrices,
)
from exprbench.faces.identity import EMBEDDING_DIM, IdentityEmbedder
from exprbench.faces.landmarker import BLENDSHAPE_NAMES, Detections, Landmarker
from exprbench.faces.result import FaceTracks, SkippedFace, empty_tracks
from exprbench.faces.tracking import Tracker
from exprbench.video import (
    VideoFrames,
    VideoInfo,
    frame_chunks,
    frame_timestamps,
    iter_frames,
    load_image,
    probe,
    resample_indices,
)

log = logging.getLogger(__name__)

ANALYSER_VERSION = "faces-1"
TOO_SMALL = "smaller than min_face_px"
TOO_SHORT = "in a track shorter than min_track_frames (a detection that did not persist)"
DEFAULT_MAX_GAP_S = 1.0
DEFAULT_MIN_TRACK_FRAMES = 3
_BLINK = [BLENDSHAPE_NAMES.index("eyeBlinkLeft"), BLENDSHAPE_NAMES.index("eyeBlinkRight")]


@dataclass
class _Collector:
    """Accumulates per-frame detections (online tracking, identity) and assembles ``FaceTracks``."""

    width: int
    height: int
    min_face_px: int
    identity_every: int
    max_gap: int
    min_track_frames: int = 1
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
        """Assemble the (frame, track) arrays; tracks seen in fewer than ``min_track_frames`` frames
        are dropped and listed in ``skipped``."""
        skipped = list(self.skipped)
        found = Detections.concat(self.parts)
        frames = np.asarray(self.rows_frame, np.int64)
        raw = np.asarray(self.rows_track, np.int64)
        identity = np.full((len(frames), EMBEDDING_DIM), np.nan, np.float32)
        for row, vector in self.identity_rows.items():
            identity[row] = vector
        counts = np.bincount(raw, minlength=len(self.tracker.tracks))
        short = counts[raw] < min(self.min_track_frames, n_frames)  # no track outlasts the clip (1-frame videos)
        if short.any():
            for frame, box in zip(frames[short], boxes_from_landmarks(found.landmarks[short], self.width, self.height)):
                skipped.append(SkippedFace(int(frame), TOO_SHORT, tuple(round(float(v), 1) for v in box)))
            found, frames, raw, identity = found.take(~short), frames[~short], raw[~short], identity[~short]
        skipped.sort(key=lambda s: s.frame)
        if not len(frames):
            return empty_tracks(n_frames, fps, self.width, self.height, skipped=skipped, **extra)
        order = [i for i in self.tracker.left_to_right() if counts[i] >= min(self.min_track_frames, n_frames)]
        column = np.full(len(self.tracker.tracks), -1, np.int64)
        column[order] = np.arange(len(order))
        return assemble_tracks(found, frames, column[raw], identity, n_frames, len(order), fps, self.width,
                               self.height, skipped=skipped, **extra)


def assemble_tracks(found: Detections, frames: np.ndarray, tracks: np.ndarray, identity: np.ndarray, n_frames: int,
                    n_tracks: int, fps: float, width: int, height: int, **extra: object) -> FaceTracks:
    """Scatter per-detection rows (``found`` in full-frame normalised units, row i at
    (``frames[i]``, ``tracks[i]``)) into the (frame, track) arrays; boxes, pose and gaze are computed
    here once for all rows. Cells without a row stay NaN."""

    def scatter(values: np.ndarray) -> np.ndarray:
        out = np.full((n_frames, n_tracks) + values.shape[1:], np.nan, np.float32)
        out[frames, tracks] = values
        return out

    blink = found.blendshapes[:, _BLINK]
    return FaceTracks(
        n_frames=n_frames, fps=fps, width=width, height=height, track_ids=list(range(n_tracks)),
        boxes=scatter(boxes_from_landmarks(found.landmarks, width, height)),
        landmarks=scatter(found.landmarks), blendshapes=scatter(found.blendshapes),
        pose=scatter(pose_from_matrices(found.matrices)),
        gaze=scatter(gaze_vectors(found.landmarks, found.matrices, blink, width, height)),
        identity=scatter(identity), **extra)


def _check_params(num_faces: int, identity_every: int, min_face_px: int) -> None:
    if num_faces < 1:
        raise ValueError(f"num_faces must be >= 1, got {num_faces}")
    if identity_every < 0:
        raise ValueError(f"identity_every must be >= 0 (0 disables identity), got {identity_every}")
    if min_face_px < 0:
        raise ValueError(f"min_face_px must be >= 0, got {min_face_px}")


def _run_video(frames: Iterable[np.ndarray], indices: np.ndarray, times: np.ndarray, width: int, height: int,
               fps: float, *, num_faces: int, identity_every: int, min_face_px: int, max_gap_s: float,
               min_track_frames: int, **extra: object) -> FaceTracks:
    """The per-frame loop shared by files and in-memory clips. ``frames`` yields (n, H, W, 3) chunks."""
    collector = _Collector(width, height, min_face_px, identity_every, max(1, math.ceil(max_gap_s * fps)),
                           min_track_frames, IdentityEmbedder() if identity_every else None)
    f = 0
    with Landmarker("video", num_faces) as landmarker:
        for chunk in frames:
            for image in chunk:
                if f and indices[f] == indices[f - 1]:
                    collector.repeat(f)
                else:
                    collector.add(f, image, landmarker.detect(image, round(times[f] * 1000)))
                f += 1
    result = collector.result(f, fps, timestamps=times[:f], frame_indices=indices[:f], **extra)
    if result.n_tracks == 0 and f:
        log.warning("%s: no face found in %d frames (MediaPipe sees human faces larger than about %d px here; "
                    "non-human or tiny faces show as coverage 0)", extra.get("source") or "clip", f,
                    min(width, height) // 5)
    return result


def analyze_frames(frames: np.ndarray | VideoFrames, fps: float, *, num_faces: int = 4, identity_every: int = 5,
                   min_face_px: int = 32, max_gap_s: float = DEFAULT_MAX_GAP_S,
                   min_track_frames: int = DEFAULT_MIN_TRACK_FRAMES) -> FaceTracks:
    """Analyse a clip shown at ``fps`` (no cache): an in-memory (T, H, W, 3) uint8 RGB array, or a
    ``VideoFrames`` that is decoded chunk by chunk (memory independent of its length)."""
    _check_params(num_faces, identity_every, min_face_px)
    if not isinstance(frames, VideoFrames):
        frames = np.asarray(frames)
    chunks, source = frame_chunks(frames)
    t, h, w = frames.shape[:3]
    scale = analysis_scale(w, h, source)
    params = _params(num_faces, identity_every, min_face_px, None, None, max_gap_s, min_track_frames, scale)
    aw, ah = scaled_size(w, h, scale)
    result = _run_video(downscale_chunks(chunks, (aw, ah)), np.arange(t), np.arange(t) / fps, aw, ah, fps,
                        num_faces=num_faces, identity_every=identity_every, min_face_px=round(min_face_px * scale),
                        max_gap_s=max_gap_s, min_track_frames=min_track_frames, params=params)
    return restore_scale(result, w, h, scale)


def analyze_video(path: str | Path, *, num_faces: int = 4, identity_every: int = 5, min_face_px: int = 32,
                  fps: float | None = None, max_frames: int | None = None, cache: bool = True,
                  max_gap_s: float = DEFAULT_MAX_GAP_S, min_track_frames: int = DEFAULT_MIN_TRACK_FRAMES) -> FaceTracks:
    """Analyse every frame of a video (``fps=None``) or the frames resampled to ``fps`` by timestamps.

    The result is cached by content hash, analyser version, parameters and model sha256s; a second
    call on the same file loads it instead of recomputing.
    """
    _check_params(num_faces, identity_every, min_face_px)
    path = Path(path)
    info = probe(path)
    scale = analysis_scale(info.width, info.height, path)
    params = _params(num_faces, identity_every, min_face_px, fps, max_frames, max_gap_s, min_track_frames, scale)

    def compute() -> FaceTracks:
        indices, times, rate = frame_plan(path, info, fps, max_frames)
        aw, ah = scaled_size(info.width, info.height, scale)
        frames = downscale_chunks(iter_frames(info, indices.tolist()), (aw, ah))
        result = _run_video(frames, indices, times, aw, ah, rate, num_faces=num_faces,
                            identity_every=identity_every, min_face_px=round(min_face_px * scale),
                            max_gap_s=max_gap_s, min_track_frames=min_track_frames, source=str(path), params=params)
        return restore_scale(result, info.width, info.height, scale)

    return face_cache.cached(path, ANALYSER_VERSION, params, identity_every > 0, cache, compute)


def _params(num_faces: int, identity_every: int, min_face_px: int, fps: float | None, max_frames: int | None,
            max_gap_s: float, min_track_frames: int, scale: float = 1.0) -> dict:
    params = {"version": ANALYSER_VERSION, "num_faces": num_faces, "identity_every": identity_every,
              "min_face_px": min_face_px, "fps": fps, "max_frames": max_frames, "max_gap_s": max_gap_s,
              "min_track_frames": min_track_frames}
    return with_scale(params, scale)


def with_scale(params: dict, scale: float) -> dict:
    """Record a downscale for analysis (``faces.budget``); absent within the budget, so the cache keys
    of every frame size analysed natively are unchanged."""
    return {**params, "analysis_scale": round(scale, 6)} if scale < 1.0 else params


def frame_plan(path: Path, info: VideoInfo, fps: float | None, max_frames: int | None) -> tuple[np.ndarray, np.ndarray, float]:
    """(source frame indices, seconds each analysed frame is shown at, analysed rate): every frame
    (``fps=None``) or the frames resampled to ``fps`` by their timestamps."""
    stamps = _timestamps(path, info.n_frames)
    if fps is None:
        indices = np.arange(len(stamps))[:max_frames]
        return indices, stamps[indices], info.fps
    indices = resample_indices(stamps, fps, max_frames=max_frames)
    return indices, np.arange(len(indices)) / fps, fps


def _timestamps(path: Path, n_frames: int) -> np.ndarray:
    """One presentation time per frame present; frames whose packet has no pts are placed one median
    interval after the previous one (some containers omit pts on trailing packets)."""
    stamps = frame_timestamps(path)[:n_frames]
    missing = n_frames - len(stamps)
    if missing > 0:
        step = float(np.median(np.diff(stamps))) if len(stamps) > 1 else 1.0 / 25
        last = stamps[-1] if len(stamps) else -step
        stamps = np.concatenate([stamps, last + step * np.arange(1, missing + 1)])
    return stamps


# ---- still images -----------------------------------------------------------------------------------

TILE_FRACTION = 0.5  # tile side as a fraction of the shorter image side; tiles overlap by half
DUPLICATE_IOU = 0.3
MIN_TILE_PX = 96  # below this a tile adds nothing the whole-image pass does not see
REFINE_CONTEXT = 2.0  # crop side / face size for the re-measuring pass


def _tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """(x0, y0, side) of half-overlapping square tiles; none for images too small to need them."""
    side = int(min(width, height) * TILE_FRACTION)
    if side < MIN_TILE_PX:
        return []
    step = side // 2

    def starts(extent: int) -> list[int]:
        return sorted(set(list(range(0, extent - side + 1, step)) + [extent - side]))

    return [(x, y, side) for y in starts(height) for x in starts(width)]


def _refine(landmarker: Landmarker, image: np.ndarray, box: np.ndarray) -> Detections | None:
    """Re-run the landmarker on a crop centred on ``box`` (REFINE_CONTEXT x its size); landmarks in image units.

    Window detections are only proposals: a face found in the whole image gets a coarse detector
    region, one found in a tile may be cut by the tile border. A face-centred crop gives every face
    the same framing, so still-image results do not depend on which window found the face.
    """
    h, w = image.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = REFINE_CONTEXT * max(box[2] - box[0], box[3] - box[1]) / 2
    x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    x1, y1 = int(min(cx + half, w)), int(min(cy + half, h))
    found = landmarker.detect(image[y0:y1, x0:x1])
    if not len(found):
        return None
    found = to_full_frame(found, x0, y0, x1 - x0, y1 - y0, w, h)
    centres = found.landmarks[..., :2].mean(axis=1) * np.array([w, h])
    return found.take(np.array([np.argmin(np.linalg.norm(centres - np.array([cx, cy]), axis=1))]))


def to_full_frame(found: Detections, x0: int, y0: int, cw: int, ch: int, w: int, h: int) -> Detections:
    """Detections made in the crop (x0, y0, cw, ch) expressed in normalised units of the whole image."""
    landmarks = found.landmarks.copy()
    landmarks[..., 0] = (landmarks[..., 0] * cw + x0) / w
    landmarks[..., 1] = (landmarks[..., 1] * ch + y0) / h
    landmarks[..., 2] = landmarks[..., 2] * cw / w
    return Detections(landmarks, found.blendshapes, found.matrices)


def _detect_multiscale(image: np.ndarray, num_faces: int) -> Detections:
    """Faces from the whole image plus overlapping tiles, duplicates merged, each re-measured in a
    face-centred crop (kept as found if the crop pass loses it).

    Among duplicate proposals the one least cut by a tile border (margin to an inner window edge,
    relative to face size) is kept.
    """
    h, w = image.shape[:2]
    candidates: list[Detections] = []
    margins: list[np.ndarray] = []
    with Landmarker("image", num_faces) as landmarker:
        found = landmarker.detect(image)
        candidates.append(found)
        margins.append(np.full(len(found), np.inf))
        for x0, y0, side in _tiles(w, h):
            found = landmarker.detect(image[y0:y0 + side, x0:x0 + side])
            if not len(found):
                continue
            boxes = boxes_from_landmarks(found.landmarks, side, side)
            size = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) + 1e-6
            inner = np.stack([
                np.where(x0 > 0, boxes[:, 0], np.inf), np.where(y0 > 0, boxes[:, 1], np.inf),
                np.where(x0 + side < w, side - boxes[:, 2], np.inf), np.where(y0 + side < h, side - boxes[:, 3], np.inf),
            ], axis=1).min(axis=1)
            candidates.append(to_full_frame(found, x0, y0, side, side, w, h))
            margins.append(inner / size)
    everything = Detections.concat(candidates)
    margin = np.concatenate(margins)
    boxes = boxes_from_landmarks(everything.landmarks, w, h)
    overlap = box_iou(boxes, boxes)
    keep: list[int] = []
    for i in np.argsort(-margin, kind="stable"):
        if all(overlap[i, j] < DUPLICATE_IOU for j in keep):
            keep.append(int(i))
    faces = []
    with Landmarker("image", 2) as landmarker:
        for i in sorted(keep):
            refined = _refine(landmarker, image, boxes[i])
            faces.append(refined if refined is not None else everything.take(np.array([i])))
    merged = Detections.concat(faces)
    final = boxes_from_landmarks(merged.landmarks, w, h)  # two proposals can converge on one face
    overlap = box_iou(final, final)
    unique = [i for i in range(len(final)) if all(overlap[i, j] < DUPLICATE_IOU for j in range(i))]
    return merged.take(np.asarray(unique, np.int64))


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
    found = _detect_multiscale(image, num_faces)
    if len(found) > num_faces:
        boxes = boxes_from_landmarks(found.landmarks, w, h)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        found = found.take(np.sort(np.argsort(-area, kind="stable")[:num_faces]))
    collector = _Collector(w, h, min_face_px, identity_every=1, max_gap=1, min_track_frames=1,
                           embedder=IdentityEmbedder() if identity else None)
    collector.add(0, image, found)
    params = {"version": ANALYSER_VERSION, "num_faces": num_faces, "min_face_px": min_face_px, "identity": identity}
    result = collector.result(1, 0.0, source=source, params=params)
    if result.n_tracks == 0:
        log.warning("%s: no face found (non-human or tiny faces show as coverage 0)", source or "image")
    return result



