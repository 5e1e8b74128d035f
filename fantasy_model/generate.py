"""In-process generation entry points (for the `fantasyportrait` adapter and the CLI).

`animate` takes arrays, returns an array, and loads nothing itself: build a `FantasyPortrait` once
(weights, memory mode) and reuse it across calls.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from fantasy_model.long_video import blend_windows, plan_windows
from fantasy_model.masking import Background, Box, MaskMode
from fantasy_model.windowing import round_down_to_4k1


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


def output_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """Longest side scaled to `max_size`, then both sides rounded up to multiples of 16 (as released)."""
    scale = max_size / max(width, height)
    return (math.ceil(width * scale / 16) * 16, math.ceil(height * scale / 16) * 16)


def resize_portrait(portrait: np.ndarray, boxes: Sequence[Box] | None, max_size: int) -> tuple[PIL.Image.Image, list[Box] | None]:
    """Resize an RGB uint8 portrait (LANCZOS) and its face boxes to the generation size."""
    height, width = portrait.shape[:2]
    new_w, new_h = output_size(width, height, max_size)
    image = PIL.Image.fromarray(portrait).resize((new_w, new_h), PIL.Image.LANCZOS)
    if boxes is None:
        return image, None
    sx, sy = new_w / width, new_h / height
    return image, [(b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy) for b in boxes]


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

def animate(
    portrait: np.ndarray,
    driving_videos: Sequence[np.ndarray],
    face_boxes: Sequence[Box] | None,
    fps: float,
    num_frames: int,
    *,
    model: FantasyPortrait,
    options: GenerationOptions | None = None,
) -> np.ndarray:
    """Animate an RGB uint8 portrait [H, W, 3] with one RGB uint8 driving video [T, h, w, 3] per face.

    face_boxes[i] (portrait pixels) is driven by driving_videos[i]; None detects the faces and
    pairs them left to right with the videos, as the release does. Returns [T, H', W', 3] uint8 at
    the driving `fps` (H', W' = the generation size, see `output_size`).
    """
    options = options or GenerationOptions()
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if face_boxes is None:
        face_boxes = model.extractor.detect_portrait_faces(np.ascontiguousarray(portrait[..., ::-1]))
    if len(face_boxes) != len(driving_videos):
        raise ValueError(f"{len(face_boxes)} faces in the portrait but {len(driving_videos)} driving videos")
    image, boxes = resize_portrait(portrait, face_boxes, options.max_size)
    features, tracks = [], []
    for video in driving_videos:
        frames_bgr = [np.ascontiguousarray(frame[..., ::-1]) for frame in video[:num_frames]]
        feats, track = model.extractor(frames_bgr)
        features.append(feats)
        tracks.append([tuple(map(float, b)) for b in track.boxes])
    return animate_features(model.pipe, image, features, boxes, tracks, num_frames, options)
