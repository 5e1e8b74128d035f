"""The per-frame pixel budget of face analysis (``exprbench.faces.budget``): frames up to 4K UHD are analysed
as they are, larger ones downscaled (recorded in the result), far larger ones refused before any decoding."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from exprbench.assets import asset_path
from exprbench.errors import InputError
from exprbench.faces import analyze_video
from exprbench.faces import analyze as analyze_module
from exprbench.faces.budget import MAX_ANALYSIS_PIXELS, MAX_FRAME_PIXELS, analysis_scale, scaled_size
from exprbench.video import VideoWriter, probe, read_video


def test_budget_keeps_4k_and_below_native_and_scales_larger_frames_to_it():
    for size in ((640, 360), (1920, 1080), (3840, 2160), (2160, 3840)):
        assert analysis_scale(*size) == 1.0 and scaled_size(*size, 1.0) == size
    for width, height in ((5120, 2880), (7680, 4320), (4000, 3000), (15360, 8640)):
        scale = analysis_scale(width, height)
        w, h = scaled_size(width, height, scale)
        assert scale < 1 and w * h <= MAX_ANALYSIS_PIXELS
        assert w * h > 0.99 * MAX_ANALYSIS_PIXELS and abs(w / h - width / height) < 0.01  # aspect kept
    assert scaled_size(7680, 4320, analysis_scale(7680, 4320)) == (3840, 2160)


def test_frames_above_the_hard_limit_are_refused_in_one_line():
    with pytest.raises(InputError) as err:
        analysis_scale(16384, MAX_FRAME_PIXELS // 16384 + 1, "huge.mp4")
    message = str(err.value)
    assert "\n" not in message and message.startswith("huge.mp4: frames of 16384x8193")
    assert "exceed the face-analysis limit" in message


def test_a_video_above_the_limit_is_refused_before_decoding(monkeypatch):
    path = asset_path("sample_single_face_video")
    huge = dataclasses.replace(probe(path), width=16384, height=8200)
    monkeypatch.setattr(analyze_module, "probe", lambda _: huge)
    monkeypatch.setattr(analyze_module, "iter_frames", lambda *a, **k: pytest.fail("decoded a refused video"))
    with pytest.raises(InputError, match="exceed the face-analysis limit"):
        analyze_video(path, cache=False)


@pytest.fixture(scope="module")
def clip_5k(tmp_path_factory):
    """Six frames of the real single-face clip upscaled 8x to 5120x2880 (14.7 MP, above the 8.3 MP budget)."""
    frames = read_video(asset_path("sample_single_face_video"), list(range(6)))
    path = tmp_path_factory.mktemp("budget") / "face_5k.mp4"
    with VideoWriter(path, 30, crf=18, preset="ultrafast") as writer:
        for image in frames:
            writer.write(cv2.resize(image, (5120, 2880), interpolation=cv2.INTER_CUBIC))
    return path


def test_a_video_above_the_budget_is_analysed_downscaled_and_says_so(clip_5k):
    big = analyze_video(clip_5k, identity_every=0, cache=False)
    native = analyze_video(asset_path("sample_single_face_video"), identity_every=0, max_frames=6, cache=False)
    assert big.params["analysis_scale"] == 0.75 and "analysis_scale" not in native.params
    assert (big.width, big.height) == (5120, 2880)  # results are in the original pixel grid
    assert big.n_tracks == native.n_tracks == 1 and big.present().all()
    assert np.allclose(big.boxes / 8, native.boxes, atol=3)  # the same face, 8x the pixels
    assert np.allclose(big.landmarks[..., :2], native.landmarks[..., :2], atol=0.01)  # normalised units
