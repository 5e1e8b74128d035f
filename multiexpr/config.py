"""Every curation parameter in one place, with its default and why.

The paper (FantasyPortrait §4.1) published no thresholds; these are the project's. They live in ONE frozen
dataclass so a run records all of them (``run_config.json``) and a hash of them: an existing output built
with a different configuration is refused unless ``--force`` (mixing clips curated under two rule sets in
one dataset would make its statistics meaningless). Engine settings (workers, Ray address) are not part of
the hash because they never change the output.

Calibration of the expressiveness thresholds (see ``multiexpr.calibration`` and the dataset card): on the
embedded sample, a face that is a frozen copy of one frame, re-encoded with H.264, measures the codec's
noise floor; the least expressive real face (the man in ``sample_single_face_video``, talking calmly)
measures the bottom of real expression. Each threshold sits at the geometric mean of the two, so both
sides keep a margin of the same ratio. Measured values are in ``CALIBRATION`` below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass

PIPELINE_VERSION = "multiexpr-build-v2"  # v2: face-count pre-pass, no identity embeddings

# Measured by ``python -m multiexpr.calibration`` on the embedded sample media (analysis at 5 fps), per
# measure: the largest value on a frozen (static) face, the smallest on a real face, and the threshold
# = sqrt(static_max * real_min), rounded. The thresholds assume analysis_fps = 5 (motion is per second,
# but codec noise between samples is not): recalibrate if you change it.
CALIBRATION = {
    "static_max": {"blendshape_std": 0.0060, "landmark_motion": 0.0025, "pose_std_deg": 0.064},
    "real_min": {"blendshape_std": 0.0422, "landmark_motion": 0.0602, "pose_std_deg": 0.392},
    "threshold": {"blendshape_std": 0.016, "landmark_motion": 0.012, "pose_std_deg": 0.16},
}


@dataclass(frozen=True)
class BuildConfig:
    """All thresholds and protocol choices of ``multiexpr build``. Units are in the field names."""

    # --- shot split (PySceneDetect ContentDetector) ---
    scene_threshold: float = 27.0  # ContentDetector default; video2dataset uses the same
    scene_min_len_frames: int = 15  # shortest shot the detector may produce (source frames)
    scene_downscale_width: int = 256  # frames are shrunk to this width for detection (speed; cuts are global)
    max_clip_s: float = 10.0  # longer shots are cut into equal pieces no longer than this (Panda-70M force-cut)

    # --- face-count pre-pass (multiexpr.prepass), during the shot split's decode ---
    prepass_fps: float = 1.0  # frames per second (global grid) whose faces are counted; 0 disables the pre-pass
    prepass_min_fraction: float = 0.5  # shots with min_faces faces in fewer of those frames are too_few_faces

    # --- face analysis on sampled frames ---
    analysis_fps: float = 5.0  # frames per second given to face analysis (boxes are interpolated to 25 fps)
    max_faces: int = 4  # faces the landmarker looks for per frame
    # identity embedding every k-th analysed frame; 0 = none. Tracks are linked by box geometry and the
    # dataset stores no identity vectors, so the dlib embeddings (half the analysis time) bought nothing.
    identity_every: int = 0
    detect_min_face_px: int = 32  # faces smaller than this are ignored by the analyser

    # --- filters ---
    min_faces: int = 2  # faces that must be present through the clip
    min_presence: float = 0.9  # a face counts if present in at least this fraction of analysed frames
    min_face_px: int = 96  # median (over frames) shorter side of every counted face box, source pixels
    max_iou: float = 0.12  # any pair of counted faces overlapping this much in any frame rejects the clip
    sharpness_crop_px: int = 128  # face crops are resized to this square before the Laplacian
    min_sharpness: float = 25.0  # median variance of the Laplacian on the face crop, for every face
    min_blendshape_std: float = 0.016  # mean temporal std of the 51 non-neutral blendshape scores
    min_landmark_motion: float = 0.012  # mean non-rigid landmark speed, face radii per second (measures.py)
    min_pose_std_deg: float = 0.16  # mean temporal std of yaw, pitch and roll, degrees
    # a face is expressive if ANY of the three measures clears its threshold; every counted face must be
    min_frames_25fps: int = 81  # clip length after resampling to 25 fps (FantasyPortrait windows are 4k+1)

    # --- cut and annotate ---
    out_fps: float = 25.0  # clips are re-encoded to this rate (H.264 yuv420p)
    out_crf: int = 18  # x264 quality (lower is better; 18 is visually lossless)
    out_preset: str = "fast"  # x264 speed preset: the cut is the build's costliest step after face analysis
    mask_rule: str = "ellipse-in-box-v1"  # see multiexpr.masks: ellipse inscribed in the box grown by mask_scale
    mask_scale: float = 1.2

    # --- output ---
    rows_per_shard: int = 1000

    # --- captioning (optional, pluggable; none bundled) ---
    captioner: str = ""  # "module:attribute" of a Captioner; "" disables captioning
    caption_prompt: str = ""  # recorded from the captioner

    def __post_init__(self) -> None:
        """Typed validation (``check_parameter``): a wrong type or an impossible value fails here, naming
        the parameter, instead of a build that exits 0 with zero clips."""
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, check_parameter(f.name, getattr(self, f.name)))
        if self.max_faces < self.min_faces:
            raise ValueError(f"build parameter max_faces={self.max_faces} is below min_faces={self.min_faces}: "
                             "no clip could pass the face count")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """sha256 of the canonical JSON of every parameter plus the pipeline version (first 16 hex)."""
        return parameters_hash(self.to_dict(), PIPELINE_VERSION)

    @classmethod
    def from_dict(cls, values: dict) -> BuildConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown configuration keys: {sorted(unknown)}")
        return cls(**values)


X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")
MASK_RULES = ("ellipse-in-box-v1",)


def _positive(v: float) -> bool:
    return v > 0


def _non_negative(v: float) -> bool:
    return v >= 0


def _fraction(v: float) -> bool:
    return 0 <= v <= 1


# parameter -> (test, the rule in words); parameters not listed accept any value of their type
LIMITS = {
    "scene_threshold": (_positive, "> 0"),
    "scene_min_len_frames": (lambda v: v >= 1, ">= 1"),
    "scene_downscale_width": (lambda v: v >= 16, ">= 16"),
    "max_clip_s": (_positive, "> 0"),
    "prepass_fps": (_non_negative, ">= 0 (0 disables the pre-pass)"),
    "prepass_min_fraction": (_fraction, "between 0 and 1"),
    "analysis_fps": (_positive, "> 0"),
    "max_faces": (lambda v: 1 <= v <= 16, "between 1 and 16"),
    "identity_every": (_non_negative, ">= 0"),
    "detect_min_face_px": (_non_negative, ">= 0"),
    "min_faces": (lambda v: 1 <= v <= 16, "between 1 and 16"),
    "min_presence": (lambda v: 0 < v <= 1, "in (0, 1]"),
    "min_face_px": (_non_negative, ">= 0"),
    "max_iou": (_fraction, "between 0 and 1"),
    "sharpness_crop_px": (lambda v: v >= 8, ">= 8"),
    "min_sharpness": (_non_negative, ">= 0"),
    "min_blendshape_std": (_non_negative, ">= 0"),
    "min_landmark_motion": (_non_negative, ">= 0"),
    "min_pose_std_deg": (_non_negative, ">= 0"),
    "min_frames_25fps": (lambda v: v >= 2, ">= 2"),
    "out_fps": (lambda v: 0 < v <= 240, "in (0, 240]"),
    "out_crf": (lambda v: 0 <= v <= 51, "between 0 and 51 (x264)"),
    "out_preset": (lambda v: v in X264_PRESETS, "one of " + ", ".join(X264_PRESETS)),
    "mask_rule": (lambda v: v in MASK_RULES, "one of " + ", ".join(MASK_RULES)),
    "mask_scale": (_positive, "> 0"),
    "rows_per_shard": (lambda v: v >= 1, ">= 1"),
}


def parameters_hash(values: dict, pipeline_version: str) -> str:
    """``BuildConfig.hash`` of parameters recorded by any pipeline version (``run_config.json`` is checked
    against the hash it records, whichever version wrote it)."""
    payload = json.dumps({"pipeline": pipeline_version, **values}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def check_parameter(name: str, value: object) -> object:
    """``value`` as build parameter ``name`` holds it, or ``ValueError`` naming the parameter: the type of
    its default, a finite number, within ``LIMITS``. Integers given for float parameters become floats
    (JSON has one number type), so the hash of ``out_fps=25`` and ``out_fps=25.0`` is the same."""
    kind = type(_DEFAULTS[name])
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif type(value) is not kind:
        raise ValueError(f"build parameter {name}={value!r} is not of type {kind.__name__}")
    if kind is float and not math.isfinite(value):
        raise ValueError(f"build parameter {name}={value!r} is not a finite number")
    check = LIMITS.get(name)
    if check is not None and not check[0](value):
        raise ValueError(f"build parameter {name}={value!r} is out of range: must be {check[1]}")
    return value


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(BuildConfig)}


@dataclass(frozen=True)
class EngineConfig:
    """How the build runs; never affects the output bytes, so not hashed."""

    engine: str = "local"  # "local" (process pool) or "ray"
    workers: int = 1
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine {self.engine!r} is not local or ray")
        if type(self.workers) is not int or self.workers < 1:
            raise ValueError(f"workers={self.workers!r} must be a whole number >= 1")
