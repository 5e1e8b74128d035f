"""In-process generation entry points (for the `fantasyportrait` adapter and the CLI).

`animate` takes arrays, returns an array, and loads nothing itself: build a `FantasyPortrait` once
(weights, memory mode) and reuse it across calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from fantasy_model.face_landmarks import TrackingMode
from fantasy_model.long_video import blend_windows, plan_windows
from fantasy_model.masking import Background, Box, MaskMode
from fantasy_model.windowing import round_down_to_4k1

RELEASE_MULTI_PERSON_FPS = 25.0
"""The release re-encodes every multi-person driving video to 25 fps (ffmpeg ``-r 25``) before
extracting features and writes the result at 25 fps (`infer_multi.py`, ``--fps 25``)."""


@dataclass(frozen=True)
class ModelPaths:
    """Local files: the diffusers Wan2.1 I2V 720P directory and the four FantasyPortrait files."""

    wan_dir: Path
    adapter: Path
    face_detector: Path
    face_landmarks: Path
    pd_fgc: Path | None = None  # optional when the adapter is a flat safetensors bundling pd_fpg.*

    @classmethod
    def from_model_dir(cls, wan_dir: str | Path, model_dir: str | Path) -> ModelPaths:
        """The layout `huggingface-cli download acvlab/FantasyPortrait --local-dir DIR` produces."""
        model_dir = Path(model_dir)
        return cls(
            wan_dir=Path(wan_dir),
            adapter=model_dir / "fantasyportrait_model.ckpt",
            face_detector=model_dir / "face_det.onnx",
            face_landmarks=model_dir / "face_landmark.onnx",
            pd_fgc=model_dir / "pd_fpg.pth",
        )


@dataclass
class GenerationOptions:
    """Sampling settings; defaults are the release's scripts (spec §7, §10)."""

    max_size: int = 720
    num_inference_steps: int = 30
    guidance_scale: float = 1.0
    expression_guidance_scale: float = 4.0
    ip_scale: float = 1.0
    prompt: str = ""
    seed: int = 42
    mask_mode: MaskMode = "per_person"
    background: Background = "all"
    window_frames: int = 81
    window_overlap: int = 17
    tracking: TrackingMode = "continuous"
    multi_person_fps: float | None = RELEASE_MULTI_PERSON_FPS
    """Rate several driving videos are re-timed to before feature extraction; None keeps theirs."""
    negative_prompt: str | None = None
    """None: the release's negative prompt for one or several people (`pipeline.negative_prompt_for`)."""


def _round_up_16(value: int) -> int:
    return (value + 15) // 16 * 16


def scaled_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """The release's first resize: longest side to `max_size`, each side truncated with ``int()``."""
    scale = max_size / max(width, height)
    return int(width * scale), int(height * scale)


def output_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """`scaled_size` rounded up to multiples of 16 (the release's `check_resize_height_width`).

    The truncation comes first: 200x310 at 720 scales to 464.5x720 -> 464x720, and 651 pixels scale
    to 720.0000000000001 in floating point -> 720 (rounding up the unrounded values gives 480 and 736).
    """
    scaled_w, scaled_h = scaled_size(width, height, max_size)
    return _round_up_16(scaled_w), _round_up_16(scaled_h)


def resize_portrait(portrait: np.ndarray, boxes: Sequence[Box] | None, max_size: int) -> tuple[PIL.Image.Image, list[Box] | None]:
    """Resize an RGB uint8 portrait and its face boxes to the generation size, as the release does:
    LANCZOS to `scaled_size`, then LANCZOS again to the multiples of 16 when they differ."""
    height, width = portrait.shape[:2]
    image = PIL.Image.fromarray(portrait).resize(scaled_size(width, height, max_size), PIL.Image.LANCZOS)
    new_w, new_h = output_size(width, height, max_size)
    if image.size != (new_w, new_h):
        image = image.resize((new_w, new_h), PIL.Image.LANCZOS)
    if boxes is None:
        return image, None
    sx, sy = new_w / width, new_h / height
    return image, [(b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy) for b in boxes]


def retime_indices(num_frames: int, source_fps: float, target_fps: float) -> np.ndarray:
    """Source frame for each frame at `target_fps`: the nearest in time (earlier on a tie), keeping the
    clip's duration (round(n * target / source) frames), like ffmpeg's constant-rate ``-r``."""
    if source_fps <= 0 or target_fps <= 0:
        raise ValueError(f"frame rates must be positive, got {source_fps} and {target_fps}")
    count = max(1, int(np.floor(num_frames * target_fps / source_fps + 0.5)))
    times = np.arange(count) * (source_fps / target_fps)
    return np.minimum(np.ceil(times - 0.5).astype(np.int64), num_frames - 1)


def retime(frames: np.ndarray, source_fps: float, target_fps: float) -> np.ndarray:
    """`frames` [T, ...] re-timed from `source_fps` to `target_fps` by nearest-frame selection."""
    if abs(source_fps - target_fps) < 1e-6:
        return frames
    return frames[retime_indices(len(frames), source_fps, target_fps)]


def generation_fps(driving_fps: Sequence[float], options: GenerationOptions) -> float:
    """The time base of the features and of the generated frames."""
    if len(driving_fps) > 1 and options.multi_person_fps is not None:
        return float(options.multi_person_fps)
    if any(abs(f - driving_fps[0]) > 1e-6 for f in driving_fps):
        raise ValueError(f"driving videos have different frame rates {list(driving_fps)}; set multi_person_fps to re-time them")
    return float(driving_fps[0])


def largest_face(boxes: Sequence[Box]) -> Box:
    return max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Pipeline output [1, T, H, W, 3] floats in [0, 1] -> [T, H, W, 3] uint8."""
    return np.clip(np.rint(np.asarray(frames)[0] * 255.0), 0, 255).astype(np.uint8)


def animate_features(
    pipe,
    image: PIL.Image.Image,
    features: Sequence[torch.Tensor],
    face_boxes: Sequence[Box],
    driving_boxes: Sequence[Sequence[Box]],
    num_frames: int,
    options: GenerationOptions,
    prompt_embeds: torch.Tensor | None = None,
) -> np.ndarray:
    """Generate `num_frames` (rounded down to 4k+1) frames, in overlapping windows when needed.

    Window k > 0 starts from a frame the previous windows produced (VAE condition) while keeping
    the original portrait's CLIP embedding, and is seeded with `seed + k`.
    """
    num_frames = round_down_to_4k1(min([num_frames] + [int(f.shape[0]) for f in features]))
    ranges = plan_windows(num_frames, options.window_frames, options.window_overlap)
    identity = pipe.encode_image(image, pipe._execution_device)
    clips: list[np.ndarray] = []
    condition = image
    for k, (start, end) in enumerate(ranges):
        result = pipe(
            condition,
            [f[start:end] for f in features],
            face_boxes,
            [list(track[:num_frames]) for track in driving_boxes],
            num_frames=end - start,
            prompt=options.prompt,
            prompt_embeds=prompt_embeds,
            image_embeds=identity,
            num_inference_steps=options.num_inference_steps,
            guidance_scale=options.guidance_scale,
            expression_guidance_scale=options.expression_guidance_scale,
            ip_scale=options.ip_scale,
            mask_mode=options.mask_mode,
            background=options.background,
            negative_prompt=options.negative_prompt,
            generator=torch.Generator("cpu").manual_seed(options.seed + k),
        )
        clips.append(to_uint8(result.frames))
        if k + 1 < len(ranges):
            stitched = blend_windows(clips, ranges[: k + 1], end)
            condition = PIL.Image.fromarray(stitched[ranges[k + 1][0]])
    return blend_windows(clips, ranges, num_frames)


class FantasyPortrait:
    """Loaded pipeline plus the driving-video feature extractor, placed with one memory mode."""

    def __init__(
        self,
        paths: ModelPaths,
        device: str = "cuda",
        offload: str = "model_cpu_offload",
        fp8: bool = False,
        dtype: torch.dtype = torch.bfloat16,
    ) -> None:
        from fantasy_model.expression_features import ExpressionExtractor
        from fantasy_model.loading import load_pipeline
        from fantasy_model.memory import configure_memory
        from fantasy_model.pd_fgc import (
            FanEncoder,
            load_fan_encoder,
            load_fan_encoder_state,
        )

        self.pipe, bundled_pd_fgc = load_pipeline(paths.wan_dir, paths.adapter, dtype)
        if paths.pd_fgc is not None:
            fan = load_fan_encoder(paths.pd_fgc)
        elif bundled_pd_fgc:
            fan = load_fan_encoder_state(FanEncoder(), bundled_pd_fgc, paths.adapter)
        else:
            raise FileNotFoundError(f"{paths.adapter}: bundles no pd_fpg.* weights; pass the path of pd_fpg.pth too")
        configure_memory(self.pipe, device=device, offload=offload, fp8=fp8)
        self.extractor = ExpressionExtractor(paths.face_detector, paths.face_landmarks, fan, device=device)

def portrait_faces(model: FantasyPortrait, image: PIL.Image.Image, people: int) -> list[Box]:
    """Faces detected in the resized portrait (where the release detects them).

    Several people: left to right. One person: the largest face, or the whole image when none is
    found (the release's single-person path uses no face box at all, so non-human faces work).
    """
    boxes = model.extractor.detect_portrait_faces(np.ascontiguousarray(np.asarray(image)[..., ::-1]))
    if people == 1:
        return [largest_face(boxes)] if boxes else [(0.0, 0.0, float(image.width), float(image.height))]
    return boxes


def animate(
    portrait: np.ndarray,
    driving_videos: Sequence[np.ndarray],
    face_boxes: Sequence[Box] | None,
    fps: float | Sequence[float],
    num_frames: int,
    *,
    model: FantasyPortrait,
    options: GenerationOptions | None = None,
    output_fps: float | None = None,
) -> np.ndarray:
    """Animate an RGB uint8 portrait [H, W, 3] with one RGB uint8 driving video [T, h, w, 3] per face.

    face_boxes[i] (portrait pixels) is driven by driving_videos[i]; None detects the faces in the
    resized portrait and pairs them left to right with the videos (one video: the largest face), as
    the release does. `fps` is the driving videos' frame rate (one for all, or one per video).
    Several driving videos are re-timed to `options.multi_person_fps` (25, the release's) before
    features are extracted, and generation runs at that rate (`generation_fps`). The returned
    [T, H', W', 3] uint8 frames are at `output_fps` (default: the driving rate, re-timed back by
    nearest frame so callers keep their time base), at most `num_frames` of them counted at that
    rate; H', W' = `output_size`.
    """
    options = options or GenerationOptions()
    rates = [float(fps)] * len(driving_videos) if np.isscalar(fps) else [float(f) for f in fps]
    if len(rates) != len(driving_videos):
        raise ValueError(f"{len(rates)} frame rates for {len(driving_videos)} driving videos")
    if not driving_videos or min(rates) <= 0:
        raise ValueError(f"need at least one driving video and positive frame rates, got {rates}")
    base_fps = generation_fps(rates, options)
    out_fps = float(output_fps or rates[0])
    generate_frames = max(1, int(np.floor(num_frames * base_fps / out_fps + 1e-6)))
    image, boxes = resize_portrait(portrait, face_boxes, options.max_size)
    if boxes is None:
        boxes = portrait_faces(model, image, len(driving_videos))
    if len(boxes) != len(driving_videos):
        raise ValueError(f"{len(boxes)} faces in the portrait but {len(driving_videos)} driving videos")
    features, tracks = [], []
    for video, rate in zip(driving_videos, rates, strict=True):
        video = retime(np.asarray(video), rate, base_fps)
        frames_bgr = [np.ascontiguousarray(frame[..., ::-1]) for frame in video[:generate_frames]]
        feats, track = model.extractor(frames_bgr, tracking=options.tracking)
        features.append(feats)
        tracks.append([tuple(map(float, b)) for b in track.boxes])
    frames = animate_features(model.pipe, image, features, boxes, tracks, generate_frames, options)
    return retime(frames, base_fps, out_fps)[:num_frames]
