"""The harness's normalisation on synthetic clips whose frames carry their own index (edge cases)."""

from __future__ import annotations

import numpy as np

from baselines.job import MethodOutput
from baselines.normalise import normalise_video
from exprbench.video import probe, read_video, write_video


def index_frames(n: int, h: int = 64, w: int = 96) -> np.ndarray:
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        for bit in range(8):
            if (i >> bit) & 1:
                frames[i, :, bit * (w // 8):(bit + 1) * (w // 8)] = 255
    return frames


def decode_index(frames: np.ndarray) -> list[int]:
    w = frames.shape[2]
    return [sum(1 << b for b in range(8) if f[:, b * (w // 8) + 2:(b + 1) * (w // 8) - 2].mean() > 127) for f in frames]


def test_low_fps_short_output_is_resampled_and_held(tmp_path):
    raw = write_video(tmp_path / "raw.mp4", index_frames(20), 12)
    record = normalise_video(MethodOutput(raw), tmp_path / "out.mp4", 25, 50, 96, 64)
    out = read_video(tmp_path / "out.mp4")
    assert len(out) == 50 and abs(probe(tmp_path / "out.mp4").fps - 25) < 0.01
    expected = [min(int(np.floor(k * 12 / 25 + 1e-6)), 19) for k in range(50)]
    assert decode_index(out) == expected
    # 20 frames at 12 fps last 20/12 s: samples k/25 before that end are k = 0..41, 42 frames (exact rationals)
    assert record.resampled and record.held_frames == 50 - 42 and not record.resized
    assert any("resampled from 12.000 to 25 fps" in c for c in record.changes)


def test_wrong_metadata_fps_is_overridden_and_extra_frames_trimmed(tmp_path):
    raw = write_video(tmp_path / "raw.mp4", index_frames(30), 7)  # Follow-Your-Emoji: 1:1 frames, "7 fps"
    record = normalise_video(MethodOutput(raw, frame_fps=25), tmp_path / "out.mp4", 25, 24, 96, 64)
    assert decode_index(read_video(tmp_path / "out.mp4")) == list(range(24))
    assert not record.resampled and record.trimmed_frames == 6
    assert any("taken as 25 fps" in c for c in record.changes)


def test_padding_is_cropped_and_size_restored(tmp_path):
    frames = np.zeros((5, 120, 160, 3), np.uint8)
    frames[:, 20:100, :, 0] = 200  # the content band; the rest is padding
    raw = write_video(tmp_path / "raw.mp4", frames, 25)
    record = normalise_video(MethodOutput(raw, content_box=(0, 20 / 120, 1, 100 / 120)), tmp_path / "out.mp4",
                             25, 5, 80, 40)
    out = read_video(tmp_path / "out.mp4")
    assert out.shape == (5, 40, 80, 3)
    assert out[..., 0].min() > 150  # no padding left
    assert record.cropped_to == [0, 20, 160, 100] and record.resized


def test_conforming_output_is_copied_not_reencoded(tmp_path):
    raw = write_video(tmp_path / "raw.mp4", index_frames(10), 25)
    record = normalise_video(MethodOutput(raw), tmp_path / "out.mp4", 25, 10, 96, 64)
    assert record.changes == [] and (tmp_path / "out.mp4").read_bytes() == raw.read_bytes()


def test_odd_portrait_size_is_even_floored(tmp_path):
    raw = write_video(tmp_path / "raw.mp4", index_frames(4, 64, 96), 25)
    normalise_video(MethodOutput(raw), tmp_path / "out.mp4", 25, 4, 97, 65)
    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height) == (96, 64)
