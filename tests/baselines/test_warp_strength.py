"""The warp strength knob: 0 is exactly static, 1 is warp-3 unchanged, in between moves part of the way."""

from __future__ import annotations

import numpy as np
import pytest

from baselines import generate_items, get_adapter
from baselines.warp import WarpAdapter, scale_head_motion
from exprbench.errors import InputError
from exprbench.video import read_video


def _similarity(angle_deg: float, scale: float, shift: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    return (scale * rot)[None], np.asarray(shift, np.float64)[None]


def test_head_motion_scales_angle_scale_and_travel():
    linear, shift = _similarity(20.0, 1.2, (5.0, -3.0, 1.0))
    centre = np.array([100.0, 80.0, 10.0])
    full = scale_head_motion(linear, shift, centre, 1.0)
    none = scale_head_motion(linear, shift, centre, 0.0)
    half_linear, half_shift = scale_head_motion(linear, shift, centre, 0.5)
    np.testing.assert_allclose(full[0], linear, atol=1e-12)
    np.testing.assert_allclose(full[1], shift, atol=1e-9)
    np.testing.assert_allclose(none[0], np.eye(3)[None], atol=1e-12)
    np.testing.assert_allclose(none[1], 0.0, atol=1e-9)
    expected, _ = _similarity(10.0, np.sqrt(1.2), (0, 0, 0))
    np.testing.assert_allclose(half_linear, expected, atol=1e-12)
    travel_full = linear[0] @ centre + shift[0] - centre
    travel_half = half_linear[0] @ centre + half_shift[0] - centre
    np.testing.assert_allclose(travel_half, 0.5 * travel_full, atol=1e-9)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "x", float("nan")])
def test_strength_outside_0_1_is_refused(bad):
    with pytest.raises(InputError, match="strength"):
        WarpAdapter(strength=bad)


def test_strength_comes_from_the_methods_config_and_is_recorded():
    adapter = get_adapter("warp", {"strength": 0.25})
    assert adapter.strength == 0.25 and adapter.config()["strength"] == 0.25


def test_strength_0_is_static_bit_for_bit_and_half_is_between(bench, cpu_results, tmp_path):
    results, _ = cpu_results
    item = bench.item("self_woman")
    generate_items(get_adapter("warp", {"strength": 0.0}), bench, [item], tmp_path / "s0")
    generate_items(get_adapter("warp", {"strength": 0.5}), bench, [item], tmp_path / "s5")
    zero = read_video(tmp_path / "s0" / "warp" / f"{item.id}.mp4")
    static = read_video(results / "static" / f"{item.id}.mp4")
    assert np.array_equal(zero, static)
    full = read_video(results / "warp" / f"{item.id}.mp4").astype(np.float64)
    half = read_video(tmp_path / "s5" / "warp" / f"{item.id}.mp4").astype(np.float64)
    still = static.astype(np.float64)
    moved_half = np.abs(half[-1] - still[-1]).mean()
    moved_full = np.abs(full[-1] - still[-1]).mean()
    assert 0.1 * moved_full < moved_half < 0.95 * moved_full


def test_self_mode_reference_is_frame_zero_even_when_another_frame_matches_closer():
    """warp-3: a still image and the same picture as a video frame get blendshapes about 0.02 apart, so
    the closest-expression rule alone can pick a later frame; the pixels decide instead."""
    from baselines.warp import anchor_frame

    rng = np.random.default_rng(0)
    driving = rng.uniform(0, 1, (30, 52))
    portrait = driving[0] + 0.02
    driving[21] = portrait + 0.001  # closer in blendshapes than frame 0
    assert anchor_frame(driving, portrait) == 21
    assert anchor_frame(driving, portrait, portrait_is_first_frame=True) == 0
    driving[0] = np.nan  # the face is not found in frame 0: fall back to the expression match
    assert anchor_frame(driving, portrait, portrait_is_first_frame=True) == 21
