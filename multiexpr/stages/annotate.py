"""The dataset row of an accepted clip: what the stages measured, at the output frame rate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from multiexpr.config import PIPELINE_VERSION
from multiexpr.layout import clip_name
from multiexpr.stages.base import Stage
from multiexpr.tasks import Candidate


def _interpolate_boxes(boxes: np.ndarray, analysis_fps: float, out_fps: float, count: int) -> np.ndarray:
    """Boxes (F, 4) at the analysis rate to (count, 4) at the output rate.

    Linear between two analysed frames where the face is present; next to an absent sample the nearest
    sample decides (present: its box, absent: NaN). No extrapolation beyond that.
    """
    pos = np.arange(count) * analysis_fps / out_fps
    lo = np.clip(np.floor(pos).astype(int), 0, len(boxes) - 1)
    hi = np.clip(lo + 1, 0, len(boxes) - 1)
    w = (pos - lo)[:, None]
    both = np.isfinite(boxes[lo]).all(1) & np.isfinite(boxes[hi]).all(1)
    nearest = np.where(w[:, 0] < 0.5, lo, hi)
    out = boxes[nearest].copy()
    out[both] = (boxes[lo] * (1 - w) + boxes[hi] * w)[both]
    return out


def _f(value: float) -> float:
    return float(value) if value is not None else math.nan


@dataclass
class AnnotateStage(Stage):
    """The dataset row: per frame and person boxes (mask by ``mask_rule``), per person statistics,
    per clip scores and source span."""

    name: ClassVar[str] = "annotate"
    reads: ClassVar[tuple[str, ...]] = (
        "SourceTask.source", "SourceTask.sha256", "SourceTask.timestamps", "Candidate.start", "Candidate.end",
        "Candidate.clip_id", "Candidate.tracks", "Candidate.faces", "Candidate.face_stats.coverage",
        "Candidate.face_stats.face_px", "Candidate.face_stats.sharpness", "Candidate.face_stats.blendshape_std",
        "Candidate.face_stats.landmark_motion", "Candidate.face_stats.pose_std_deg",
        "Candidate.face_stats.expressiveness", "Candidate.max_iou")
    writes: ClassVar[tuple[str, ...]] = ("Candidate.row",)

    def process(self, clip: Candidate) -> None:
        cfg = self.config
        tr = clip.tracks
        n_out = len(clip.out_indices(cfg.out_fps))
        width, height = tr.width - tr.width % 2, tr.height - tr.height % 2
        boxes_all = np.asarray(tr.boxes, dtype=np.float64)
        pose_all = np.asarray(tr.pose, dtype=np.float64)
        blend_all = np.asarray(tr.blendshapes, dtype=np.float64)
        present_all = np.asarray(tr.present())
        faces = []
        for i in clip.faces:
            s = clip.face_stats[i]
            boxes = _interpolate_boxes(boxes_all[:, i], cfg.analysis_fps, cfg.out_fps, n_out)
            boxes = np.clip(boxes, 0, [width, height, width, height])
            pose = pose_all[present_all[:, i], i]
            blend = blend_all[present_all[:, i], i]
            faces.append({
                "track_id": int(tr.track_ids[i]),
                "boxes": [[float(v) for v in b] for b in boxes.astype(np.float32)],
                "present": [bool(v) for v in np.isfinite(boxes).all(1)],
                "coverage": s["coverage"], "face_px": s["face_px"], "sharpness": s["sharpness"],
                "blendshape_std": _f(s["blendshape_std"]), "landmark_motion": _f(s["landmark_motion"]),
                "pose_std_deg": _f(s["pose_std_deg"]), "expressiveness": _f(s["expressiveness"]),
                "yaw_mean": float(pose[:, 0].mean()), "pitch_mean": float(pose[:, 1].mean()),
                "roll_mean": float(pose[:, 2].mean()), "yaw_std": float(pose[:, 0].std()),
                "pitch_std": float(pose[:, 1].std()), "roll_std": float(pose[:, 2].std()),
                "blendshape_mean": [float(v) for v in blend.mean(0).astype(np.float32)],
                "blendshape_temporal_std": [float(v) for v in blend.std(0).astype(np.float32)],
            })
        stats = [clip.face_stats[i] for i in clip.faces]
        clip.row = {
            "clip_id": clip.clip_id, "video": clip_name(clip.clip_id),
            "source": clip.source.source.name, "source_sha256": clip.source.sha256,
            "source_start_frame": clip.start, "source_end_frame": clip.end,
            "start_s": clip.start_s, "end_s": clip.end_s, "fps": cfg.out_fps, "num_frames": n_out,
            "width": width, "height": height, "num_faces": len(faces), "faces": faces,
            "scores": {
                "min_face_px": min(s["face_px"] for s in stats),
                "max_iou": clip.max_iou,
                "min_sharpness": min(s["sharpness"] for s in stats),
                "min_expressiveness": min(s["expressiveness"] for s in stats),
                "min_coverage": min(s["coverage"] for s in stats),
            },
            "caption": None, "captioner": None, "mask_rule": cfg.mask_rule, "mask_scale": cfg.mask_scale,
            "pipeline_version": PIPELINE_VERSION, "config_hash": cfg.hash(),
        }
        return None
