"""Temporal windowing: which expression tokens each latent frame attends to (spec §4).

The release gives latent frame 0 the 24 tokens of pixel frame 0 followed by 73 zero tokens, and
latent frame i >= 1 the 96 tokens of pixel frames 4i-3..4i plus the last token of frame 4i-4.
The zero padding is reproduced on purpose: the released weights were trained with it.
"""

from __future__ import annotations

import torch


def latent_frame_count(num_frames: int) -> int:
    """Wan's VAE maps 4k+1 pixel frames to k+1 latent frames."""
    if num_frames < 1 or (num_frames - 1) % 4:
        raise ValueError(f"num_frames must be 4k+1, got {num_frames}")
    return (num_frames - 1) // 4 + 1


def round_down_to_4k1(num_frames: int) -> int:
    """Largest 4k+1 not above `num_frames` (the release's `find_replacement`)."""
    if num_frames < 1:
        raise ValueError(f"need at least one frame, got {num_frames}")
    return (num_frames - 1) // 4 * 4 + 1


def window_ranges(num_frames: int, tokens_per_frame: int) -> list[tuple[int, int]]:
    """Inclusive token index range per latent frame; negative starts mean padding (release semantics)."""
    per_latent = 4 * tokens_per_frame
    half = per_latent // 2
    ranges = []
    for i in range(latent_frame_count(num_frames)):
        if i == 0:
            ranges.append((0, 0))  # replaced below, as the release derives it from window 1
            continue
        centre = (tokens_per_frame * (4 * i - 3) + tokens_per_frame * (4 * i + 1)) // 2 - 1
        ranges.append((centre - half, centre + half))
    first_end = ranges[1][0] if len(ranges) > 1 else tokens_per_frame - 1
    ranges[0] = (first_end - per_latent, first_end)
    return ranges


def window_indices(num_frames: int, tokens_per_frame: int) -> torch.Tensor:
    """[T_lat, 4*tpf+1] token indices per window, -1 marking a zero pad token.

    Pads (front or back) are appended at the end of the window, exactly like the release's
    `split_tensor_with_padding`.
    """
    total = num_frames * tokens_per_frame
    width = 4 * tokens_per_frame + 1
    rows = []
    for start, end in window_ranges(num_frames, tokens_per_frame):
        valid = list(range(max(start, 0), min(end, total - 1) + 1))
        rows.append(valid + [-1] * (width - len(valid)))
    return torch.tensor(rows, dtype=torch.long)


def split_into_windows(tokens: torch.Tensor, num_frames: int, tokens_per_frame: int) -> torch.Tensor:
    """[B, F*tpf, C] -> [B, T_lat, 4*tpf+1, C] with zero tokens where the release pads."""
    batch, length, channels = tokens.shape
    if length != num_frames * tokens_per_frame:
        raise ValueError(f"expected {num_frames * tokens_per_frame} tokens for {num_frames} frames, got {length}")
    index = window_indices(num_frames, tokens_per_frame).to(tokens.device)
    padded = torch.cat([tokens, tokens.new_zeros(batch, 1, channels)], dim=1)
    index = torch.where(index < 0, length, index)
    return padded[:, index]
