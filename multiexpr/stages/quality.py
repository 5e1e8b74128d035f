"""The quality filters on an analysed clip, cheapest first: face size, overlap, sharpness, expressiveness.

Each judges every counted face and records its measure in ``Candidate.face_stats`` (the annotate stage
publishes them), so a kept clip carries the numbers that let it through. Every threshold comes from
``BuildConfig``; the expressiveness thresholds are calibrated (``multiexpr.calibration``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from multiexpr import measures
from multiexpr.stages.base import Drop, Stage
from multiexpr.tasks import Candidate

ANALYSED = ("Candidate.tracks", "Candidate.faces")


@dataclass
class FaceSizeFilter(Stage):
    name: ClassVar[str] = "face_size"
    reads: ClassVar[tuple[str, ...]] = ANALYSED
    writes: ClassVar[tuple[str, ...]] = ("Candidate.face_stats.face_px",)

    def process(self, clip: Candidate) -> Drop | None:
        for i in clip.faces:
            clip.face_stats[i]["face_px"] = measures.face_size(np.asarray(clip.tracks.boxes)[:, i])
        smallest = min(clip.face_stats[i]["face_px"] for i in clip.faces)
        if not smallest >= self.config.min_face_px:
            return Drop("face_too_small", f"smallest face {smallest:.0f} px, need {self.config.min_face_px}")
        return None


@dataclass
class OverlapFilter(Stage):
    name: ClassVar[str] = "overlap"
    reads: ClassVar[tuple[str, ...]] = ANALYSED
    writes: ClassVar[tuple[str, ...]] = ("Candidate.max_iou",)

    def process(self, clip: Candidate) -> Drop | None:
        worst = measures.max_pairwise_iou(np.asarray(clip.tracks.boxes), clip.faces)
        clip.max_iou = worst
        if worst >= self.config.max_iou:
            return Drop("faces_overlap", f"max IoU {worst:.3f}, need < {self.config.max_iou}")
        return None


@dataclass
class SharpnessFilter(Stage):
    name: ClassVar[str] = "sharpness"
    reads: ClassVar[tuple[str, ...]] = (*ANALYSED, "Candidate.frames")
    writes: ClassVar[tuple[str, ...]] = ("Candidate.face_stats.sharpness",)

    def process(self, clip: Candidate) -> Drop | None:
        boxes = np.asarray(clip.tracks.boxes)
        for i in clip.faces:
            clip.face_stats[i]["sharpness"] = measures.face_sharpness(clip.frames, boxes[:, i],
                                                                      self.config.sharpness_crop_px)
        blurriest = min(clip.face_stats[i]["sharpness"] for i in clip.faces)
        if not blurriest >= self.config.min_sharpness:
            return Drop("blurry", f"Laplacian variance {blurriest:.1f} on the blurriest face, "
                                  f"need {self.config.min_sharpness}")
        return None


@dataclass
class ExpressivenessFilter(Stage):
    """Every counted face must move: blendshapes, non-rigid landmark motion or head angles."""

    name: ClassVar[str] = "expressiveness"
    reads: ClassVar[tuple[str, ...]] = ANALYSED
    writes: ClassVar[tuple[str, ...]] = ("Candidate.face_stats.blendshape_std", "Candidate.face_stats.landmark_motion",
                                         "Candidate.face_stats.pose_std_deg", "Candidate.face_stats.expressiveness")

    def face_measures(self, tracks: object, i: int) -> dict:
        cfg = self.config
        b = measures.blendshape_std(np.asarray(tracks.blendshapes)[:, i])
        m = measures.landmark_motion(np.asarray(tracks.landmarks)[:, i], tracks.width, tracks.height, tracks.fps)
        p = measures.pose_std(np.asarray(tracks.pose)[:, i])
        ratios = [v / t for v, t in ((b, cfg.min_blendshape_std), (m, cfg.min_landmark_motion),
                                     (p, cfg.min_pose_std_deg)) if np.isfinite(v)]
        return {"blendshape_std": b, "landmark_motion": m, "pose_std_deg": p,
                "expressiveness": max(ratios) if ratios else math.nan}

    def process(self, clip: Candidate) -> Drop | None:
        for i in clip.faces:
            clip.face_stats[i].update(self.face_measures(clip.tracks, i))
        dull = [(pos, clip.face_stats[i]) for pos, i in enumerate(clip.faces)
                if not clip.face_stats[i]["expressiveness"] >= 1.0]
        if dull:
            pos, s = dull[0]
            return Drop("not_expressive", f"face {pos} (left to right) blendshape std {s['blendshape_std']:.4f}, "
                                          f"landmark motion {s['landmark_motion']:.4f}/s, pose std "
                                          f"{s['pose_std_deg']:.2f} deg; none reaches its threshold")
        return None
