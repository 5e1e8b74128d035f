"""The embedded sample corpus: real face videos composed into multi-person clips, plus clips that must fail.

No multi-person video ships offline, so the sample composes one from the two real single-person videos:
``sample_pexels`` (a woman with strong expressions, 640x360) and ``sample_single_face_video`` (a man
talking, 640x360, 2.4 s, played forwards then backwards to reach the 81-frame minimum). Both are resampled
to 25 fps and placed side by side at their common height of 360 px. Expected outcomes:

============================  ==================================================================
``duo_side_by_side.mp4``       accepted: two expressive, sharp, separate faces for 5 s
``duo_late_entry.mp4``         the man appears after 2 s; the 6 s shot is cut where he appears
                               (ContentDetector) and only the two-face part is kept
``duo_static_copy.mp4``        rejected ``not_expressive``: the man is a frozen frame
``single_face.mp4``            rejected ``too_few_faces`` (one face)
``no_face.mp4``                rejected ``too_few_faces`` (no face; ``sample_no_face``)
``corrupt.mp4``                rejected ``unreadable`` at probe (a truncated copy of the first file)
============================  ==================================================================

Composition is deterministic (same frames, same x264 settings), so the sources, and with them every
clip id, are identical on every run and machine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from exprbench.assets import asset_path
from exprbench.video import read_resampled, write_video

FPS = 25.0
SAMPLE_VERSION = "sample-v1"
EXPECTED = {
    "duo_side_by_side.mp4": "accepted",
    "duo_late_entry.mp4": "accepted",  # the two-face part after the late entry
    "duo_static_copy.mp4": "not_expressive",
    "single_face.mp4": "too_few_faces",
    "no_face.mp4": "too_few_faces",
    "corrupt.mp4": "unreadable",
}


def _boomerang(frames: np.ndarray, count: int) -> np.ndarray:
    """``count`` frames playing ``frames`` forwards, backwards, forwards... (no repeated end frames)."""
    cycle = np.concatenate([frames, frames[-2:0:-1]])
    return cycle[np.arange(count) % len(cycle)]


def compose_sample(folder: str | Path) -> Path:
    """Write the sample sources into ``folder`` (skipping files already there) and return it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if all((folder / name).exists() for name in EXPECTED):
        return folder
    woman = read_resampled(asset_path("sample_pexels"), FPS)
    man = read_resampled(asset_path("sample_single_face_video"), FPS)
    n5, n6, entry = int(5 * FPS), int(6 * FPS), int(2 * FPS)
    man5 = _boomerang(man, n5)
    videos = {
        "duo_side_by_side.mp4": np.concatenate([woman[:n5], man5], axis=2),
        "duo_late_entry.mp4": np.concatenate(
            [woman[n5:n5 + n6],
             np.concatenate([np.full((entry, *man.shape[1:]), 128, np.uint8), _boomerang(man, n6 - entry)])],
            axis=2),
        "duo_static_copy.mp4": np.concatenate([woman[2 * n5:3 * n5], np.repeat(man[:1], n5, axis=0)], axis=2),
        "single_face.mp4": man5,
    }
    for name, frames in videos.items():
        if not (folder / name).exists():
            write_video(folder / name, frames, FPS, preset="veryfast")
    if not (folder / "no_face.mp4").exists():
        shutil.copyfile(asset_path("sample_no_face"), folder / ".no_face.mp4.tmp")
        (folder / ".no_face.mp4.tmp").replace(folder / "no_face.mp4")
    if not (folder / "corrupt.mp4").exists():
        data = (folder / "duo_side_by_side.mp4").read_bytes()
        tmp = folder / ".corrupt.mp4.tmp"
        tmp.write_bytes(data[: len(data) // 3])
        tmp.replace(folder / "corrupt.mp4")
    return folder
