"""``FaceTracks``: the typed result of face analysis, as arrays and as a frame x track table.

Arrays are indexed (frame, track). A track absent from a frame has NaN in every float array for that
frame (never zeros, never a dropped row), so metrics can ignore missing faces and report coverage
instead of scoring them. A clip with no face has N == 0 tracks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from exprbench.faces.identity import EMBEDDING_DIM
from exprbench.faces.landmarker import BLENDSHAPE_NAMES, N_BLENDSHAPES, N_LANDMARKS
from exprbench.files import atomic_path

GAZE_PARTS = ("left", "right", "combined")
_META_KEY = b"exprbench.faces"


@dataclass(frozen=True)
class SkippedFace:
    """A face MediaPipe found but the analysis did not use (e.g. too small)."""

    frame: int
    reason: str
    box: tuple[float, float, float, float]


@dataclass
class FaceTracks:
    """Per-frame, per-track face measurements.

    boxes (F, N, 4) x0, y0, x1, y1 pixels (the landmark extent); landmarks (F, N, 478, 3) MediaPipe
    normalised x, y in [0, 1] of the image and relative z; blendshapes (F, N, 52) in
    ``BLENDSHAPE_NAMES`` order; pose (F, N, 3) yaw, pitch, roll in degrees (``geometry.POSE_CONVENTION``);
    gaze (F, N, 3, 3) unit vectors [left eye, right eye, combined] in the head frame
    (``geometry.GAZE_METHOD``; NaN also for a closed eye); identity (F, N, 128) dlib embeddings on
    every ``identity_every``-th present frame of each track, NaN elsewhere. ``timestamps`` (F,) are
    the seconds each analysed frame is shown at, ``frame_indices`` (F,) the source frame it came from.
    ``track_ids`` are 0..N-1 in left-to-right order of first appearance.
    """

    n_frames: int
    fps: float
    width: int
    height: int
    track_ids: list[int]
    boxes: np.ndarray
    landmarks: np.ndarray
    blendshapes: np.ndarray
    pose: np.ndarray
    gaze: np.ndarray
    identity: np.ndarray
    skipped: list[SkippedFace] = field(default_factory=list)
    timestamps: np.ndarray | None = None
    frame_indices: np.ndarray | None = None
    source: str = ""
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.timestamps is None:
            self.timestamps = np.arange(self.n_frames, dtype=np.float64) / (self.fps or 1.0)
        if self.frame_indices is None:
            self.frame_indices = np.arange(self.n_frames, dtype=np.int64)

    @property
    def n_tracks(self) -> int:
        return len(self.track_ids)

    def present(self) -> np.ndarray:
        """(F, N) bool: the track's face was seen in that frame."""
        return ~np.isnan(self.boxes[..., 0])

    def coverage(self) -> np.ndarray:
        """(N,) fraction of the analysed frames in which each track is present."""
        if self.n_frames == 0:
            return np.zeros(self.n_tracks)
        return self.present().mean(axis=0)

    def frame_coverage(self) -> float:
        """Fraction of frames with at least one face (0.0 for a clip without faces)."""
        if self.n_frames == 0 or self.n_tracks == 0:
            return 0.0
        return float(self.present().any(axis=1).mean())

    def first_boxes(self) -> np.ndarray:
        """(N, 4) each track's box at its first appearance (what association and ordering use)."""
        present = self.present()
        first = present.argmax(axis=0)
        return self.boxes[first, np.arange(self.n_tracks)] if self.n_tracks else np.zeros((0, 4), np.float32)

    def mean_identity(self, track: int) -> np.ndarray:
        """(128,) mean of the track's embeddings (NaN if none was computed)."""
        rows = self.identity[:, track]
        rows = rows[~np.isnan(rows[:, 0])]
        return rows.mean(axis=0) if len(rows) else np.full(EMBEDDING_DIM, np.nan, np.float32)

    # ---- table form -------------------------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        """One row per frame x track (absent rows included, ``present`` False, values NaN)."""
        f, n = self.n_frames, self.n_tracks
        frame = np.repeat(np.arange(f), n)
        present = self.present().reshape(-1)
        columns: dict[str, pa.Array] = {
            "frame": pa.array(frame, pa.int64()),
            "time": pa.array(np.repeat(self.timestamps, n), pa.float64()),
            "source_frame": pa.array(np.repeat(self.frame_indices, n), pa.int64()),
            "track_id": pa.array(np.tile(np.asarray(self.track_ids, np.int64), f), pa.int64()),
            "present": pa.array(present, pa.bool_()),
        }
        boxes = self.boxes.reshape(-1, 4)
        for i, name in enumerate(("x0", "y0", "x1", "y1")):
            columns[name] = pa.array(boxes[:, i], pa.float32())
        pose = self.pose.reshape(-1, 3)
        for i, name in enumerate(("yaw", "pitch", "roll")):
            columns[name] = pa.array(pose[:, i], pa.float32())
        gaze = self.gaze.reshape(-1, 3, 3)
        for p, part in enumerate(GAZE_PARTS):
            for i, axis in enumerate("xyz"):
                columns[f"gaze_{part}_{axis}"] = pa.array(gaze[:, p, i], pa.float32())
        shapes = self.blendshapes.reshape(-1, N_BLENDSHAPES)
        for i, name in enumerate(BLENDSHAPE_NAMES):
            columns[f"bs_{name}"] = pa.array(shapes[:, i], pa.float32())
        columns["landmarks"] = _fixed_list(self.landmarks.reshape(-1, N_LANDMARKS * 3))
        columns["identity"] = _fixed_list(self.identity.reshape(-1, EMBEDDING_DIM))
        table = pa.table(columns)
        return table.replace_schema_metadata({_META_KEY: json.dumps(self._meta()).encode()})

    def to_frame(self) -> pd.DataFrame:
        """The table as pandas; ``landmarks`` (478*3 flattened x, y, z) and ``identity`` are list columns."""
        return self.to_arrow().to_pandas()

    def to_parquet(self, path: str | Path) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            pq.write_table(self.to_arrow(), tmp)
        return path

    @classmethod
    def from_parquet(cls, path: str | Path) -> FaceTracks:
        table = pq.read_table(path)
        meta = json.loads(table.schema.metadata[_META_KEY])
        f, n = meta["n_frames"], len(meta["track_ids"])

        def col(name: str) -> np.ndarray:
            return table.column(name).to_numpy().astype(np.float32)

        def fixed(name: str, width: int) -> np.ndarray:
            values = table.column(name).combine_chunks().values.to_numpy(zero_copy_only=False)
            return values.astype(np.float32).reshape(f, n, width)

        return cls(
            n_frames=f, fps=meta["fps"], width=meta["width"], height=meta["height"], track_ids=meta["track_ids"],
            boxes=np.stack([col(c) for c in ("x0", "y0", "x1", "y1")], axis=-1).reshape(f, n, 4),
            landmarks=fixed("landmarks", N_LANDMARKS * 3).reshape(f, n, N_LANDMARKS, 3),
            blendshapes=np.stack([col(f"bs_{b}") for b in BLENDSHAPE_NAMES], axis=-1).reshape(f, n, N_BLENDSHAPES),
            pose=np.stack([col(c) for c in ("yaw", "pitch", "roll")], axis=-1).reshape(f, n, 3),
            gaze=np.stack([np.stack([col(f"gaze_{p}_{a}") for a in "xyz"], axis=-1) for p in GAZE_PARTS],
                          axis=-2).reshape(f, n, 3, 3),
            identity=fixed("identity", EMBEDDING_DIM),
            **cls._from_meta(meta),
        )

    # ---- metadata shared by parquet and the cache --------------------------------------------------

    def _meta(self) -> dict:
        return {"n_frames": self.n_frames, "fps": self.fps, "width": self.width, "height": self.height,
                "track_ids": list(self.track_ids), "source": self.source, "params": self.params,
                "skipped": [[s.frame, s.reason, list(s.box)] for s in self.skipped],
                "timestamps": np.asarray(self.timestamps).tolist(),
                "frame_indices": np.asarray(self.frame_indices).tolist()}

    @staticmethod
    def _from_meta(meta: dict) -> dict:
        return {"skipped": [SkippedFace(int(fr), reason, tuple(box)) for fr, reason, box in meta["skipped"]],
                "timestamps": np.asarray(meta["timestamps"], np.float64),
                "frame_indices": np.asarray(meta["frame_indices"], np.int64),
                "source": meta["source"], "params": meta["params"]}

    def summary(self) -> list[dict]:
        """Per track: id, frames seen, coverage, mean box, mean yaw (what ``exprbench faces`` prints)."""
        present = self.present()
        rows = []
        for t, track_id in enumerate(self.track_ids):
            with np.errstate(all="ignore"):
                rows.append({"track_id": track_id, "frames": int(present[:, t].sum()),
                             "coverage": float(self.coverage()[t]),
                             "mean_box": np.nanmean(self.boxes[:, t], axis=0).tolist(),
                             "mean_yaw": float(np.nanmean(self.pose[:, t, 0]))})
        return rows


def _fixed_list(values: np.ndarray) -> pa.FixedSizeListArray:
    width = values.shape[1]
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1).astype(np.float32), pa.float32()), width)


def empty_tracks(n_frames: int, fps: float, width: int, height: int, **extra: object) -> FaceTracks:
    """A result with no track (N == 0): every array has a 0-sized track axis."""
    return FaceTracks(n_frames=n_frames, fps=fps, width=width, height=height, track_ids=[],
                      boxes=np.zeros((n_frames, 0, 4), np.float32),
                      landmarks=np.zeros((n_frames, 0, N_LANDMARKS, 3), np.float32),
                      blendshapes=np.zeros((n_frames, 0, N_BLENDSHAPES), np.float32),
                      pose=np.zeros((n_frames, 0, 3), np.float32), gaze=np.zeros((n_frames, 0, 3, 3), np.float32),
                      identity=np.zeros((n_frames, 0, EMBEDDING_DIM), np.float32), **extra)
