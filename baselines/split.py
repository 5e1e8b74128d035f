"""Split one multi-person driving video into one clip per portrait face.

The official FantasyPortrait code crops each person with a fixed first-frame box plus 100 px padding
and handles exactly two people (``fantasyportrait-model.md`` §6.2). Here every person is tracked over
the whole clip, paired with the portrait faces in left-to-right order (the same convention), and cut
with one fixed square crop that contains the track's every box plus a margin, so the clip keeps the
person's head motion and works for any number of people.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exprbench.errors import InputError
from exprbench.video import read_resampled, write_video

SPLIT_MARGIN = 0.5  # fraction of the face size added on every side of the union of the track's boxes


def square_crop(box: np.ndarray, margin: float, width: int, height: int) -> tuple[int, int, int]:
    """(x0, y0, side) of the square around ``box`` enlarged by ``margin`` x its larger side, shifted inside."""
    x0, y0, x1, y1 = (float(v) for v in box)
    size = max(x1 - x0, y1 - y0)
    side = round(min(size * (1 + 2 * margin), width, height))
    side -= side % 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = round(min(max(cx - side / 2, 0), width - side))
    top = round(min(max(cy - side / 2, 0), height - side))
    return left, top, side


def split_driving_multi(video: Path, faces: list[list[float]], portrait_size: tuple[int, int], fps: float,
                        frames: int, out_dir: Path) -> list[Path]:
    """Write ``out_dir/face_<i>.mp4`` for every portrait face (left to right) and return the paths."""
    from exprbench.faces import analyze_video, associate

    tracks = analyze_video(video, num_faces=max(len(faces), 1), identity_every=0, fps=fps, max_frames=frames)
    pairing = associate(np.asarray(faces), tracks, reference_size=portrait_size, method="order")
    if pairing.unmatched_reference:
        raise InputError(video, f"has {tracks.n_tracks} tracked faces but the portrait has {len(faces)}",
                         "every portrait face needs a person in driving_multi, or give one driving video per face")
    clip = read_resampled(video, fps, max_frames=frames)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for face in range(len(faces)):
        boxes = tracks.boxes[:, pairing.mapping[face]]
        union = np.array([np.nanmin(boxes[:, 0]), np.nanmin(boxes[:, 1]), np.nanmax(boxes[:, 2]), np.nanmax(boxes[:, 3])])
        x, y, side = square_crop(union, SPLIT_MARGIN, tracks.width, tracks.height)
        paths.append(write_video(out_dir / f"face_{face}.mp4", clip[:, y:y + side, x:x + side], fps))
    return paths
