"""Finding and pairing the faces of one item, before any face metric (rules in ``PROTOCOL.faces``).

Multi-character items: the portrait's faces (left to right, as in the manifest) are associated with
the generated video's tracks by position and IoU, and with the driving faces (one video per face, or
the tracks of one multi-person video, left to right); each metric is then computed per face in that
face's track or region, and a face that is not found gets NaN and lowers the coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.faces import (
    FaceTracks,
    analyze_frames,
    analyze_image,
    analyze_regions,
    analyze_video,
    analyze_video_regions,
    associate,
)
from exprbench.faces.identity import EMBEDDING_DIM
from exprbench.metrics import face_region
from exprbench.protocol import PROTOCOL
from exprbench.video import VideoFrames, load_image, read_video


@dataclass
class ItemFaces:
    """The faces of one item after association: per manifest face, the generated track, the reference
    (driving or ground-truth) tracks and track, and the portrait face's identity embedding."""

    generated: FaceTracks
    gen_track: list[int | None]
    driving: list[tuple[FaceTracks | None, int | None]]
    portrait_identity: list[np.ndarray]


def main_track(tracks: FaceTracks) -> int | None:
    """The face a single-face video shows: the track seen most often (None when no face is seen)."""
    if not tracks.track_ids:
        return None
    return int(np.argmax(tracks.coverage()))


def column(array: np.ndarray, track: int | None, n: int) -> np.ndarray:
    """Track ``track``'s per-frame values, NaN-filled when unmatched; first ``n`` frames."""
    if track is None:
        return np.full((n, *array.shape[2:]), np.nan, dtype=np.float32)
    values = array[:n, track]
    if len(values) < n:
        pad = np.full((n - len(values), *array.shape[2:]), np.nan, dtype=np.float32)
        values = np.concatenate([values, pad])
    return values


def track_field(tracks: FaceTracks, name: str, track: int | None, n: int) -> np.ndarray:
    """One FaceTracks field of one track over ``n`` frames; gaze is the combined (both-eye) vector."""
    values = column(getattr(tracks, name), track, n)
    return values[:, 2] if name == "gaze" else values


def _first_frame_boxes(path: Path, limit: int) -> np.ndarray:
    """Faces in a video's first frame, left to right (the still-image search finds small faces)."""
    tracks = analyze_image(read_video(path, [0])[0], num_faces=max(8, limit), identity=False)
    boxes = tracks.boxes[0] if tracks.n_tracks else np.zeros((0, 4))
    return boxes[np.argsort((boxes[:, 0] + boxes[:, 2]) / 2)][:limit] if len(boxes) else boxes


def analyse_item(bench: Benchmark, item: Item, gen_frames: VideoFrames, ref_identity: bool = False) -> ItemFaces:
    """Find and pair the faces of one item.

    One character: whole-frame analysis, the main track of each video. Several characters: region
    mode (a crop around each expected face), because MediaPipe's full-frame detector misses faces
    smaller than about a fifth of the frame; every video of the item is then analysed in region mode,
    so head poses are compared like with like. ``ref_identity``: embed the reference faces too (the
    ground truth's own CSIM, for csim_gap in self mode).
    """
    n, k = item.frames, PROTOCOL.faces.identity_every
    rk = k if ref_identity else 0
    faces = np.asarray(item.faces, dtype=np.float64)
    portrait = load_image(bench.path(item.portrait))
    size = (portrait.shape[1], portrait.shape[0])
    portrait_tracks = analyze_image(portrait, num_faces=max(8, item.n_faces + 2))
    port_assoc = associate(faces, portrait_tracks, reference_size=size)
    identity = [portrait_tracks.identity[0, t] if t is not None else np.full(EMBEDDING_DIM, np.nan, np.float32)
                for t in (port_assoc.mapping[j] for j in range(item.n_faces))]
    driving: list[tuple[FaceTracks | None, int | None]] = []
    if item.n_faces == 1:
        generated = analyze_frames(gen_frames, fps=item.fps, num_faces=4, identity_every=k)
        gen_track: list[int | None] = [main_track(generated)]
        rel = item.driving[0] if item.driving is not None else item.driving_multi
        tracks = analyze_video(bench.path(rel), num_faces=4, identity_every=rk, max_frames=n)
        driving.append((tracks, main_track(tracks)))
    else:
        scale = np.array([gen_frames.shape[2] / size[0], gen_frames.shape[1] / size[1]] * 2)
        generated = analyze_regions(gen_frames, item.fps, faces * scale, identity_every=k)
        gen_track = list(range(item.n_faces))
        if item.driving is not None:
            for rel in item.driving:
                box = _first_frame_boxes(bench.path(rel), 8)
                if len(box) == 0:
                    driving.append((None, None))
                    continue
                main = box[np.argmax((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]))][None]
                driving.append((analyze_video_regions(bench.path(rel), main, max_frames=n, identity_every=rk), 0))
        else:
            path = bench.path(item.driving_multi)
            # self: the portrait is the first frame, so its boxes are the driving faces; cross: left to right
            boxes = faces if item.mode == "self" else _first_frame_boxes(path, item.n_faces)
            tracks = analyze_video_regions(path, boxes, max_frames=n, identity_every=rk) if len(boxes) else None
            driving = [(tracks, j if tracks is not None and j < len(boxes) else None) for j in range(item.n_faces)]
    return ItemFaces(generated=generated, gen_track=gen_track, driving=driving, portrait_identity=identity)


def ground_truth_regions(item: Item, faces: ItemFaces, j: int, size: tuple[int, int],
                         n: int) -> tuple[list | None, np.ndarray | None]:
    """What face ``j``'s pixel and set metrics compare in frames of ``size`` (height, width): whole frames
    for one character (``None, None``), else the protocol region that the ground-truth track occupies in
    each frame and which frames have one (``[], None`` when the ground truth has no such face). Frames
    without a box borrow the nearest valid region so crops stay well-defined, and are marked invalid."""
    if item.n_faces == 1:
        return None, None
    tracks, t = faces.driving[j]
    if tracks is None or t is None:
        return [], None
    boxes = column(tracks.boxes, t, n)
    valid = np.isfinite(boxes).all(axis=1)
    if not valid.any():
        return [], valid
    idx = np.flatnonzero(valid)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(boxes))), 0, len(idx) - 1)]
    return [face_region(boxes[i], size) for i in nearest], valid
