"""The curation stages, NeMo-Curator style: typed dataclasses with ``setup()`` (once per worker: load models)
and ``process()``.

Two task types flow through them: a ``SourceTask`` (one input video) through probe and shot split, which
turn it into ``Candidate`` clips; each candidate goes through the length filter, face analysis, the face
filters, cut, annotate and (optionally) caption. A filter's ``process`` returns ``None`` to keep the
candidate or a reason string to drop it, ``"code: detail"``: the code is what ``stats.json`` counts and
``rejects.parquet`` stores in ``reason``; the whole string goes to ``detail``.

Order: the length filter runs right after the shot split (it needs no faces, so too-short shots never pay
for face analysis); the face filters run cheapest first. Every threshold comes from ``BuildConfig``.
"""

from __future__ import annotations

import hashlib
import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from exprbench.errors import ExprBenchError
from exprbench.video import (
    VideoInfo,
    VideoWriter,
    frame_timestamps,
    iter_frames,
    probe,
    read_video,
    resample_indices,
)
from multiexpr import measures, prepass
from multiexpr.captioning import Captioner, load_captioner
from multiexpr.config import PIPELINE_VERSION, BuildConfig
from multiexpr.decode import scan
from multiexpr.layout import Layout, clip_name
from multiexpr.sources import Source, content_sha256
from multiexpr.spans import CutDetector, frame_time, shots_to_spans, span_indices


def clip_id_for(source_sha256: str, start: int, end: int) -> str:
    """Deterministic clip id: the source's content hash and the span in source frames."""
    return hashlib.sha256(f"{source_sha256}:{start}:{end}".encode()).hexdigest()[:20]


@dataclass
class SourceTask:
    source: Source
    sha256: str = ""
    info: VideoInfo | None = None
    timestamps: np.ndarray | None = None
    prepass_indices: np.ndarray | None = None  # source frames of the face-count pre-pass
    prepass_counts: np.ndarray | None = None  # faces found in each of them


@dataclass
class Candidate:
    """A candidate clip: a span of one source, and what the stages learn about it."""

    source: SourceTask
    start: int  # source frames, half-open
    end: int
    clip_id: str = ""
    frames: np.ndarray | None = None  # analysed frames (sampled at analysis_fps), dropped after filtering
    tracks: object = None  # exprbench.faces.FaceTracks
    faces: list[int] = field(default_factory=list)  # counted track columns, left to right
    face_stats: dict[int, dict] = field(default_factory=dict)  # per counted track column
    max_iou: float = math.nan
    prepass_reason: str | None = None  # the face-count reject decided by the pre-pass (full analysis skipped)
    out_frames: np.ndarray | None = None  # 25 fps frames, kept only for a captioner
    row: dict | None = None

    @property
    def start_s(self) -> float:
        return frame_time(self.source.timestamps, self.start)

    @property
    def end_s(self) -> float:
        return frame_time(self.source.timestamps, self.end)

    def out_indices(self, fps: float) -> np.ndarray:
        return span_indices(self.source.timestamps, self.start, self.end, fps)


@dataclass
class Stage:
    """Base: ``setup`` once per worker, ``process`` per task."""

    config: BuildConfig
    name: ClassVar[str] = ""

    def setup(self) -> None:
        """Load models or other per-worker state (default: nothing)."""


# ---------------------------------------------------------------- source stages


@dataclass
class ProbeStage(Stage):
    """Hash the bytes and read metadata and packet timestamps; unreadable sources are dropped here."""

    name: ClassVar[str] = "probe"

    def process(self, task: SourceTask) -> str | None:
        if task.source.problem:
            return task.source.problem
        try:
            task.sha256 = content_sha256(task.source.path)
            task.info = probe(task.source.path)
            task.timestamps = frame_timestamps(task.source.path)
        except FileNotFoundError:
            return "unreadable: file not found"
        except (ExprBenchError, OSError) as exc:
            return f"unreadable: {exc}"
        if len(task.timestamps) != task.info.n_frames:
            task.timestamps = task.timestamps[:task.info.n_frames]
        if len(task.timestamps) < 2:
            return f"unreadable: only {len(task.timestamps)} frame(s)"
        return None


@dataclass
class ShotSplitStage(Stage):
    """PySceneDetect ContentDetector over every frame, then a forced split of shots over ``max_clip_s``.

    The same single decode feeds the face-count pre-pass (``multiexpr.prepass``): frames on the
    ``prepass_fps`` grid are also converted at full size and their faces counted, so the pre-pass costs
    no decoding of its own.
    """

    name: ClassVar[str] = "shot_split"

    def process(self, task: SourceTask) -> list[Candidate] | str:
        cfg = self.config
        cuts = CutDetector(task.info.fps, cfg.scene_threshold, cfg.scene_min_len_frames)
        grid = (np.unique(resample_indices(task.timestamps, cfg.prepass_fps)) if cfg.prepass_fps > 0
                else np.zeros(0, np.int64))
        wanted = set(grid.tolist())
        counts: list[int] = []
        try:
            counter = prepass.FaceCounter(cfg.max_faces, cfg.detect_min_face_px) if len(grid) else nullcontext()
            with counter as faces:
                for index, small, full in scan(task.info, cfg.scene_downscale_width, wanted, len(task.timestamps)):
                    cuts.feed(small)
                    if full is not None:
                        counts.append(faces.count(full, task.timestamps[index]))
        except ExprBenchError as exc:
            return f"undecodable: {exc}"
        task.prepass_indices, task.prepass_counts = grid, np.asarray(counts, np.int64)
        spans = shots_to_spans(cuts.cuts(), task.timestamps, cfg.max_clip_s)
        return [Candidate(source=task, start=a, end=b, clip_id=clip_id_for(task.sha256, a, b)) for a, b in spans]


# ---------------------------------------------------------------- candidate stages


@dataclass
class LengthFilter(Stage):
    """At least ``min_frames_25fps`` frames once resampled to ``out_fps``."""

    name: ClassVar[str] = "length"

    def process(self, clip: Candidate) -> str | None:
        n = len(clip.out_indices(self.config.out_fps))
        if n < self.config.min_frames_25fps:
            return f"too_short: {n} frames at {self.config.out_fps:g} fps, need {self.config.min_frames_25fps}"
        return None


@dataclass
class FaceStage(Stage):
    """Face landmarks, blendshapes, pose and tracks on frames sampled at ``analysis_fps``."""

    name: ClassVar[str] = "faces"

    def setup(self) -> None:
        from exprbench.faces import analyze_frames

        self._analyze = analyze_frames

    def process(self, clip: Candidate) -> str | None:
        cfg = self.config
        task = clip.source
        if task.prepass_indices is not None and cfg.prepass_fps > 0:
            clip.prepass_reason = prepass.too_few_faces(task.prepass_indices, task.prepass_counts, clip.start,
                                                        clip.end, cfg.min_faces, cfg.prepass_min_fraction,
                                                        cfg.prepass_fps)
            if clip.prepass_reason is not None:
                return None  # the face-count filter reports it; the full analysis is skipped
        indices = clip.out_indices(cfg.analysis_fps)
        unique, inverse = np.unique(indices, return_inverse=True)
        try:
            frames = read_video(clip.source.info, unique.tolist())[inverse]
        except ExprBenchError as exc:
            return f"undecodable: {exc}"
        clip.frames = frames
        clip.tracks = self._analyze(frames, cfg.analysis_fps, num_faces=cfg.max_faces,
                                    identity_every=cfg.identity_every, min_face_px=cfg.detect_min_face_px)
        coverage = np.asarray(clip.tracks.coverage())
        clip.faces = [i for i in range(len(coverage)) if coverage[i] >= cfg.min_presence]
        for i in clip.faces:
            clip.face_stats[i] = {"coverage": float(coverage[i])}
        return None


@dataclass
class FaceCountFilter(Stage):
    name: ClassVar[str] = "face_count"

    def process(self, clip: Candidate) -> str | None:
        cfg = self.config
        if clip.prepass_reason is not None:
            return clip.prepass_reason
        if len(clip.faces) < cfg.min_faces:
            seen = len(clip.tracks.track_ids)
            return (f"too_few_faces: {len(clip.faces)} face(s) present in >= {cfg.min_presence:.0%} of frames "
                    f"({seen} seen at all), need {cfg.min_faces}")
        return None


@dataclass
class FaceSizeFilter(Stage):
    name: ClassVar[str] = "face_size"

    def process(self, clip: Candidate) -> str | None:
        for i in clip.faces:
            clip.face_stats[i]["face_px"] = measures.face_size(np.asarray(clip.tracks.boxes)[:, i])
        smallest = min(clip.face_stats[i]["face_px"] for i in clip.faces)
        if not smallest >= self.config.min_face_px:
            return f"face_too_small: smallest face {smallest:.0f} px, need {self.config.min_face_px}"
        return None


@dataclass
class OverlapFilter(Stage):
    name: ClassVar[str] = "overlap"

    def process(self, clip: Candidate) -> str | None:
        worst = measures.max_pairwise_iou(np.asarray(clip.tracks.boxes), clip.faces)
        clip.max_iou = worst
        if worst >= self.config.max_iou:
            return f"faces_overlap: max IoU {worst:.3f}, need < {self.config.max_iou}"
        return None


@dataclass
class SharpnessFilter(Stage):
    name: ClassVar[str] = "sharpness"

    def process(self, clip: Candidate) -> str | None:
        boxes = np.asarray(clip.tracks.boxes)
        for i in clip.faces:
            clip.face_stats[i]["sharpness"] = measures.face_sharpness(clip.frames, boxes[:, i],
                                                                      self.config.sharpness_crop_px)
        blurriest = min(clip.face_stats[i]["sharpness"] for i in clip.faces)
        if not blurriest >= self.config.min_sharpness:
            return f"blurry: Laplacian variance {blurriest:.1f} on the blurriest face, need {self.config.min_sharpness}"
        return None


@dataclass
class ExpressivenessFilter(Stage):
    """Every counted face must move: blendshapes, non-rigid landmark motion or head angles."""

    name: ClassVar[str] = "expressiveness"

    def face_measures(self, tracks: object, i: int) -> dict:
        cfg = self.config
        b = measures.blendshape_std(np.asarray(tracks.blendshapes)[:, i])
        m = measures.landmark_motion(np.asarray(tracks.landmarks)[:, i], tracks.width, tracks.height, tracks.fps)
        p = measures.pose_std(np.asarray(tracks.pose)[:, i])
        ratios = [v / t for v, t in ((b, cfg.min_blendshape_std), (m, cfg.min_landmark_motion),
                                     (p, cfg.min_pose_std_deg)) if np.isfinite(v)]
        return {"blendshape_std": b, "landmark_motion": m, "pose_std_deg": p,
                "expressiveness": max(ratios) if ratios else math.nan}

    def process(self, clip: Candidate) -> str | None:
        for i in clip.faces:
            clip.face_stats[i].update(self.face_measures(clip.tracks, i))
        dull = [(pos, clip.face_stats[i]) for pos, i in enumerate(clip.faces)
                if not clip.face_stats[i]["expressiveness"] >= 1.0]
        if dull:
            pos, s = dull[0]
            return (f"not_expressive: face {pos} (left to right) blendshape std {s['blendshape_std']:.4f}, "
                    f"landmark motion {s['landmark_motion']:.4f}/s, pose std {s['pose_std_deg']:.2f} deg; "
                    f"none reaches its threshold")
        return None


@dataclass
class CutStage(Stage):
    """Re-encode the span at ``out_fps`` as H.264 to the layout's clip path.

    The writer encodes to a temp name unique to the call (``exprbench.files.atomic_path``) and renames it
    into place: two sources with identical bytes give the same clip id, and two workers encoding them at
    once must not write into one file. Consolidation removes leftovers of killed runs.
    """

    layout: Layout = Layout(Path("."))
    keep_frames: bool = False
    name: ClassVar[str] = "cut"

    def process(self, clip: Candidate) -> str | None:
        clip.frames = None  # analysed frames are no longer needed; free them before decoding the clip
        indices = clip.out_indices(self.config.out_fps)
        kept = []
        try:
            with VideoWriter(self.layout.clip(clip.clip_id), self.config.out_fps, crf=self.config.out_crf,
                             preset=self.config.out_preset) as writer:
                for chunk in iter_frames(clip.source.info, indices.tolist()):
                    writer.write(chunk)
                    if self.keep_frames:
                        kept.append(chunk)
        except ExprBenchError as exc:
            return f"undecodable: {exc}"
        if self.keep_frames:
            clip.out_frames = np.concatenate(kept)
        return None


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

    def process(self, clip: Candidate) -> str | None:
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


@dataclass
class CaptionStage(Stage):
    """Runs the configured ``Captioner`` on the clip's 25 fps frames."""

    name: ClassVar[str] = "caption"
    captioner: Captioner | None = None

    def setup(self) -> None:
        self.captioner = load_captioner(self.config.captioner)

    def process(self, clip: Candidate) -> str | None:
        text = self.captioner.caption(clip.out_frames, clip.row)
        clip.out_frames = None
        if not isinstance(text, str) or not text.strip():
            return "caption_failed: the captioner returned no text"
        clip.row["caption"] = text.strip()
        clip.row["captioner"] = self.captioner.name
        return None
