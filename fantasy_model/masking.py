"""Face-region masks for multi-character expression attention (spec §6).

Two behaviours are provided:

* ``"per_person"`` (default): video tokens inside face i attend only to person i's expression
  tokens, for any number of people. Background tokens either attend to everyone's tokens
  (``background="all"``, what the release effectively does) or receive no expression signal
  (``background="none"``).
* ``"official_compat"``: the released two-person code path, reproduced literally: boxes sorted left
  to right, person token chunks concatenated in reversed order and an *inverted* label-equality
  mask (True = attend in SDPA). It is right for two people only; for three or more each face
  receives a mix of the other people's tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from fantasy_model.expression_attention import ExpressionInputs

Box = tuple[float, float, float, float]
MaskMode = Literal["per_person", "official_compat"]
Background = Literal["all", "none"]
LATENT_CELL = 16
"""Pixels per latent token side: VAE stride 8 times patch size 2."""
MAX_MOTION_MARGIN = 0.25


def motion_margins(driving_boxes: Sequence[Box], cap: float = MAX_MOTION_MARGIN) -> tuple[float, float, float, float]:
    """How far the driving face moves beyond its first-frame box, per side, as a fraction of that box.

    Mirrors the release's `compute_max_xy` (left, right, up, down), each capped at 0.25.
    """
    boxes = np.asarray(driving_boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or len(boxes) == 0:
        raise ValueError("driving_boxes must be a non-empty list of (x0, y0, x1, y1)")
    x0, y0, x1, y1 = boxes[0]
    width, height = x1 - x0, y1 - y0
    left = (x0 - boxes[:, 0].min()) / width
    right = (boxes[:, 2].max() - x1) / width
    up = (y0 - boxes[:, 1].min()) / height
    down = (boxes[:, 3].max() - y1) / height
    return min(left, cap), min(right, cap), min(up, cap), min(down, cap)


def enlarge_box(box: Box, margins: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """Grow a portrait face box by the driving motion margins, with the release's integer rounding."""
    x0, y0, x1, y1 = box
    face_w, face_h = int(x1 - x0), int(y1 - y0)
    left, right, up, down = margins
    x0, x1 = x0 - face_w * left, x1 + face_w * right
    y0, y1 = y0 - face_h * up, y1 + face_h * down
    return max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1))


def pool_to_latent_grid(frame_mask: torch.Tensor, num_latent_frames: int) -> torch.Tensor:
    """[H, W] static mask -> [T_lat, H/16, W/16] by 16x16 max pooling.

    The release max-pools frame 0 spatially and frames 1.. with a (4, 16, 16) kernel; for a mask
    that is constant over time both give the spatial max pool, so it is computed once.
    """
    height, width = frame_mask.shape
    if height % LATENT_CELL or width % LATENT_CELL:
        raise ValueError(f"image size {width}x{height} must be a multiple of {LATENT_CELL}")
    pooled = F.max_pool2d(frame_mask[None, None].float(), kernel_size=LATENT_CELL, stride=LATENT_CELL)[0, 0]
    return pooled.expand(num_latent_frames, -1, -1)


def face_regions(
    face_boxes: Sequence[Box], driving_boxes: Sequence[Sequence[Box]], width: int, height: int
) -> list[tuple[int, int, int, int]]:
    """Portrait face boxes enlarged by each person's driving-video motion."""
    if len(face_boxes) != len(driving_boxes):
        raise ValueError(f"{len(face_boxes)} face boxes but {len(driving_boxes)} driving box tracks")
    return [enlarge_box(box, motion_margins(track), width, height) for box, track in zip(face_boxes, driving_boxes, strict=True)]


def _box_mask(box: tuple[int, int, int, int], width: int, height: int) -> torch.Tensor:
    mask = torch.zeros(height, width)
    x0, y0, x1, y1 = box
    mask[y0:y1, x0:x1] = 1.0
    return mask


def per_person_inputs(
    person_windows: Sequence[torch.Tensor],
    regions: Sequence[tuple[int, int, int, int]],
    width: int,
    height: int,
    background: Background = "all",
) -> ExpressionInputs:
    """Tokens [1, T, W*N, C] in person order and a mask letting face i see only person i's chunk.

    A latent cell touched by several enlarged boxes may attend to each of those people.
    """
    if len(person_windows) != len(regions):
        raise ValueError(f"{len(person_windows)} token streams but {len(regions)} face regions")
    tokens = torch.cat(list(person_windows), dim=2)
    frames, window = person_windows[0].shape[1], person_windows[0].shape[2]
    if len(regions) == 1 and background == "all":
        return ExpressionInputs(tokens=tokens)  # every token sees the one person: no mask needed
    membership = torch.stack(
        [pool_to_latent_grid(_box_mask(r, width, height), frames).flatten(1) > 0 for r in regions], dim=-1
    )  # [T, L, N]
    is_background = ~membership.any(dim=-1, keepdim=True)
    # Background rows are allowed everything so SDPA never sees a fully masked row (NaN).
    rows = membership | is_background
    attend = rows.repeat_interleave(window, dim=-1)
    row_gate = None if background == "all" else (~is_background[..., 0]).float()
    return ExpressionInputs(tokens=tokens, attend=attend, row_gate=row_gate)


def official_compat_inputs(
    person_windows: Sequence[torch.Tensor],
    face_boxes: Sequence[Box],
    driving_boxes: Sequence[Sequence[Box]],
    width: int,
    height: int,
) -> tuple[ExpressionInputs, list[tuple[int, int, int, int]]]:
    """The release's `process_multi_video` + `create_mask`, literally (see module docstring).

    `person_windows[i]` drives the i-th face counted from the left, as in the release.
    """
    order = sorted(range(len(face_boxes)), key=lambda i: (face_boxes[i][0] + face_boxes[i][2]) / 2)
    boxes = [face_boxes[i] for i in order]
    regions = face_regions(boxes, driving_boxes, width, height)
    tokens = torch.cat(list(person_windows)[::-1], dim=2)
    frames, total = tokens.shape[1], tokens.shape[2]
    count = len(boxes)
    labels = torch.zeros(height, width)
    for i, region in enumerate(regions):
        x0, y0, x1, y1 = region
        labels[y0:y1, x0:x1] = i + 1
    video_labels = pool_to_latent_grid(labels, frames).flatten(1)  # [T, L]
    token_labels = torch.zeros(total)
    chunk = total // count
    for i in range(count):
        token_labels[chunk * i : chunk * (i + 1)] = i + 1
    attend = ~(video_labels[:, :, None] == token_labels[None, None, :])
    return ExpressionInputs(tokens=tokens, attend=attend), regions


def build_expression_inputs(
    person_windows: Sequence[torch.Tensor],
    face_boxes: Sequence[Box],
    driving_boxes: Sequence[Sequence[Box]],
    width: int,
    height: int,
    mode: MaskMode = "per_person",
    background: Background = "all",
) -> tuple[ExpressionInputs, list[tuple[int, int, int, int]]]:
    """Expression tokens and attention mask for one generation window; also returns the face regions."""
    if mode == "official_compat":
        if len(person_windows) < 2:
            raise ValueError("official_compat reproduces the multi-person path; it needs at least two people")
        return official_compat_inputs(person_windows, face_boxes, driving_boxes, width, height)
    if mode != "per_person":
        raise ValueError(f"unknown mask mode {mode!r}; use 'per_person' or 'official_compat'")
    regions = face_regions(face_boxes, driving_boxes, width, height)
    return per_person_inputs(person_windows, regions, width, height, background), regions
