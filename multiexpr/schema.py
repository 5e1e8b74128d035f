"""The fixed Arrow schemas of ``data/*.parquet`` and ``rejects.parquet``.

One schema for every shard, declared here rather than inferred from the first rows: a shard with no
accepted clips, or a clip whose optional field is empty, must still produce identical column types, or
``datasets`` refuses to load the shards together (``DatasetGenerationCastError``). No struct is ever
empty (Parquet cannot store one). Absent faces are NaN boxes, never zeros.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from exprbench.files import atomic_path

F32 = pa.float32()
BOX_LIST = pa.list_(pa.list_(F32))

FACE = pa.struct([
    ("track_id", pa.int32()),
    ("boxes", BOX_LIST),  # per output frame: [x0, y0, x1, y1] in clip pixels, NaN when absent
    ("present", pa.list_(pa.bool_())),  # per output frame
    ("coverage", F32),  # fraction of analysed frames where the face was found
    ("face_px", F32),  # median shorter side of the box
    ("sharpness", F32),  # median variance of the Laplacian on the face crop
    ("blendshape_std", F32),
    ("landmark_motion", F32),
    ("pose_std_deg", F32),
    ("expressiveness", F32),  # max of the three measures over their thresholds; >= 1 passes
    ("yaw_mean", F32), ("pitch_mean", F32), ("roll_mean", F32),
    ("yaw_std", F32), ("pitch_std", F32), ("roll_std", F32),
    ("blendshape_mean", pa.list_(F32)),  # 52 MediaPipe blendshapes, MediaPipe's order
    ("blendshape_temporal_std", pa.list_(F32)),
])

SCORES = pa.struct([
    ("min_face_px", F32),
    ("max_iou", F32),
    ("min_sharpness", F32),
    ("min_expressiveness", F32),
    ("min_coverage", F32),
])

CLIPS = pa.schema([
    ("clip_id", pa.string()),
    ("video", pa.string()),  # relative path clips/<clip_id>.mp4
    ("source", pa.string()),  # source path relative to the input root
    ("source_sha256", pa.string()),
    ("source_start_frame", pa.int64()),
    ("source_end_frame", pa.int64()),  # exclusive
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("fps", pa.float64()),
    ("num_frames", pa.int32()),
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("num_faces", pa.int32()),
    ("faces", pa.list_(FACE)),  # left to right by box centre in the first analysed frame
    ("scores", SCORES),
    ("caption", pa.string()),  # null without a captioner
    ("captioner", pa.string()),
    ("mask_rule", pa.string()),
    ("mask_scale", pa.float32()),
    ("pipeline_version", pa.string()),
    ("config_hash", pa.string()),
])

REJECTS = pa.schema([
    ("candidate_id", pa.string()),  # clip id, or the source id for source-level rejects
    ("source", pa.string()),
    ("source_start_frame", pa.int64()),  # null for source-level rejects
    ("source_end_frame", pa.int64()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("stage", pa.string()),
    ("reason", pa.string()),  # short code, counted in stats.json
    ("detail", pa.string()),  # the full one-line reason
])


def table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows to a table with exactly ``schema`` (missing keys fail loudly rather than becoming nulls)."""
    for row in rows:
        missing = set(schema.names) - set(row)
        if missing:
            raise KeyError(f"row lacks {sorted(missing)}")
    return pa.Table.from_pylist(rows, schema=schema)


def write_parquet(table: pa.Table, path: Path) -> None:
    """A zstd Parquet file, all or nothing (``exprbench.files.atomic_path``): a killed build leaves either
    the old file or the new one, never a truncated part or shard."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
