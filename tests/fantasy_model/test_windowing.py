"""Temporal windows vs the spec's table (§4), and sliding-window planning for long videos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fantasy_model.long_video import blend_windows, plan_windows
from fantasy_model.windowing import (
    latent_frame_count,
    round_down_to_4k1,
    split_into_windows,
    window_indices,
)


@pytest.mark.parametrize("frames, latents", [(81, 21), (201, 51), (1, 1), (5, 2)])
def test_latent_frame_counts(frames, latents):
    assert latent_frame_count(frames) == latents


def test_non_4k1_counts_are_rejected_and_rounded_down_like_the_release():
    with pytest.raises(ValueError):
        latent_frame_count(80)
    assert [round_down_to_4k1(n) for n in (1, 4, 5, 80, 81, 203)] == [1, 1, 5, 77, 81, 201]


@pytest.mark.parametrize("frames", [81, 201])
def test_window_table(frames):
    index = window_indices(frames, 24)
    assert index.shape == (latent_frame_count(frames), 97)
    # latent frame 0: tokens of pixel frame 0, then 73 zero pads at the end
    assert index[0, :24].tolist() == list(range(24)) and (index[0, 24:] == -1).all()
    for i in range(1, index.shape[0]):
        start, end = 24 * (4 * i - 3) - 1, 24 * (4 * i + 1) - 1
        assert index[i].tolist() == list(range(start, end + 1)), i
    assert index.max() == 24 * frames - 1


def test_split_gathers_tokens_and_zero_pads():
    frames, tpf = 9, 24
    tokens = torch.arange(1, frames * tpf + 1, dtype=torch.float32).view(1, -1, 1).repeat(2, 1, 3)
    windows = split_into_windows(tokens, frames, tpf)
    assert windows.shape == (2, 3, 97, 3)
    assert (windows[:, 0, 24:] == 0).all()
    torch.testing.assert_close(windows[0, 2, :, 0], torch.arange(24 * 5 - 1, 24 * 9) + 1.0)
    with pytest.raises(ValueError):
        split_into_windows(tokens[:, :-1], frames, tpf)


def test_plan_windows_covers_the_video_with_full_length_windows():
    assert plan_windows(81, 81, 17) == [(0, 81)]
    assert plan_windows(50, 81, 17) == [(0, 50)]
    assert plan_windows(145, 81, 17) == [(0, 81), (64, 145)]
    ranges = plan_windows(300, 81, 17)
    assert ranges[0][0] == 0 and ranges[-1][1] == 300
    assert all(end - start == 81 for start, end in ranges)
    assert all(b[0] < a[1] and a[1] - b[0] >= 17 for a, b in zip(ranges, ranges[1:], strict=False))
    with pytest.raises(ValueError):
        plan_windows(100, 80, 10)


def test_blend_windows_crossfades_the_overlap():
    a = np.full((9, 2, 2, 3), 0, np.uint8)
    b = np.full((9, 2, 2, 3), 200, np.uint8)
    out = blend_windows([a, b], [(0, 9), (5, 14)], 14)
    assert out.shape == (14, 2, 2, 3)
    assert (out[:5] == 0).all() and (out[9:] == 200).all()
    fade = out[5:9, 0, 0, 0]
    assert list(fade) == sorted(fade) and 0 < fade[0] < fade[-1] < 200
