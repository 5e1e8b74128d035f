"""Bring whatever a method returned to the result contract, and say exactly what was changed.

Contract (``exprbench/benchmark/results.py``): the item's fps, exactly ``item.frames`` frames, frame k
aligned with driving frame k, and the portrait's size (even-floored, as H.264 yuv420p needs). Methods
break it in known ways (``baselines.md``): SkyReels-A1 writes 12 fps, Follow-Your-Emoji 7 fps with 1:1
frames, LivePortrait ``int(fps)``, X-Portrait drops the last frame, FantasyPortrait snaps to 4k+1
frames and rescales to 720 px. Each fix is recorded, never silent:

- fps: resampled by timestamps (sample-and-hold, ``exprbench.video.resample_indices``) when the rate
  differs by more than 1 %; a method's ``frame_fps`` overrides wrong file metadata;
- frame count: extra frames trimmed; missing frames filled by holding the last one;
- size: an optional content box cropped first (padding a method added), then resized with
  ``cv2.INTER_AREA`` when shrinking and ``cv2.INTER_CUBIC`` when enlarging.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from baselines.job import MethodOutput
from exprbench.benchmark.contract import FPS_TOLERANCE
from exprbench.files import atomic_path
from exprbench.video import (
    VideoWriter,
    frame_timestamps,
    iter_frames,
    probe,
    resample_indices,
)

NORMALISE_VERSION = "normalise-1"


@dataclass
class Normalisation:
    """What the harness did to a method's raw output (written to the result's sidecar)."""

    version: str
    source: dict
    target: dict
    resampled: bool = False
    trimmed_frames: int = 0
    held_frames: int = 0
    resized: bool = False
    cropped_to: list[int] | None = None
    changes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def target_size(width: int, height: int) -> tuple[int, int]:
    """The size results are stored at: the portrait's, even-floored (yuv420p)."""
    return width - width % 2, height - height % 2


def _resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    shrink = frame.shape[1] > w or frame.shape[0] > h
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def normalise_video(raw: MethodOutput, out_path: Path, fps: float, frames: int, width: int, height: int) -> Normalisation:
    """Write ``out_path`` at ``fps`` with exactly ``frames`` frames at ``target_size(width, height)``."""
    info = probe(raw.path)
    size = target_size(width, height)
    record = Normalisation(
        version=NORMALISE_VERSION,
        source={"fps": info.fps, "frames": info.n_frames, "width": info.width, "height": info.height,
                "frame_fps": raw.frame_fps},
        target={"fps": fps, "frames": frames, "width": size[0], "height": size[1]})
    if raw.frame_fps is not None:
        source_fps = raw.frame_fps
        times = np.arange(info.n_frames) / source_fps
        if abs(info.fps - source_fps) > FPS_TOLERANCE * source_fps:
            record.changes.append(f"frames taken as {source_fps:g} fps (the file says {info.fps:.3f})")
    else:
        source_fps = info.fps
        times = frame_timestamps(raw.path)[:info.n_frames]
    if abs(source_fps - fps) > FPS_TOLERANCE * fps:
        indices = resample_indices(times, fps)
        record.resampled = True
        record.changes.append(f"resampled from {source_fps:.3f} to {fps:g} fps by timestamps "
                              f"({info.n_frames} -> {len(indices)} frames)")
    else:
        indices = np.arange(info.n_frames)
    if len(indices) > frames:
        record.trimmed_frames = len(indices) - frames
        record.changes.append(f"trimmed {record.trimmed_frames} frames at the end")
        indices = indices[:frames]
    elif len(indices) < frames:
        record.held_frames = frames - len(indices)
        record.changes.append(f"held the last frame for {record.held_frames} missing frames")
        indices = np.concatenate([indices, np.full(record.held_frames, indices[-1])])
    crop = None
    if raw.content_box is not None:
        fx0, fy0, fx1, fy1 = raw.content_box
        crop = [round(fx0 * info.width), round(fy0 * info.height), round(fx1 * info.width), round(fy1 * info.height)]
        if crop != [0, 0, info.width, info.height]:
            record.cropped_to = crop
            record.changes.append(f"cropped the portrait region {crop} out of the method's padded frame")
        else:
            crop = None
    region = (crop[2] - crop[0], crop[3] - crop[1]) if crop else (info.width, info.height)
    if region != size:
        record.resized = True
        aspect = (region[0] / region[1]) / (size[0] / size[1])
        note = f"resized from {region[0]}x{region[1]} to {size[0]}x{size[1]}"
        if abs(aspect - 1) > 0.01:
            note += f" (aspect ratio changed by {100 * (aspect - 1):+.1f} %)"
        record.changes.append(note)
    if not record.changes and not record.resized and info.codec == "h264":
        with atomic_path(out_path) as tmp:
            shutil.copyfile(raw.path, tmp)  # already conforming: no second lossy encode
        return record
    with VideoWriter(out_path, fps) as writer:
        for chunk in iter_frames(info, indices.tolist()):
            for frame in chunk:
                if crop:
                    frame = frame[crop[1]:crop[3], crop[0]:crop[2]]
                writer.write(_resize(frame, size) if record.resized else frame[:size[1], :size[0]])
    return record
