"""Benchmark fidelity (protocol ``frames.storage`` and ``frames.arithmetic``) on real media.

The ground truth must decode to the resampled source frames bit for bit, a self item's portrait must be
ground-truth frame 0 bit for bit, and frame counts at NTSC rates must not depend on float rounding.
"""

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from bench_media import FRAMES
from click.testing import CliRunner

from exprbench.assets import asset_path
from exprbench.benchmark import load_benchmark
from exprbench.cli.main import cli
from exprbench.framerate import exact_rate, frames_within
from exprbench.video import (
    iter_frames,
    load_image,
    read_resampled,
    read_video,
    resample_indices,
    write_video,
)

DEMO = Path("/work/shared/media/fantasy-portrait-demo")
NTSC = Fraction(30000, 1001)

# where each prepared sample clip comes from: (asset, start in seconds)
SAMPLE_SOURCES = {"driving/pexels_00s.mp4": ("sample_pexels", 0.0), "driving/pexels_06s.mp4": ("sample_pexels", 6.0),
                  "driving/pexels_12s.mp4": ("sample_pexels", 12.0), "driving/man.mp4": ("sample_single_face_video", 0.0)}


def _decoded_both_ways(path):
    return {backend: np.concatenate(list(iter_frames(path, backend=backend))) for backend in ("decord", "pyav")}


def test_ground_truth_decodes_to_the_resampled_source_bit_for_bit(mini):
    checked = 0
    for item in mini.items:
        if item.mode != "self" or item.ground_truth not in SAMPLE_SOURCES:
            continue
        asset, start = SAMPLE_SOURCES[item.ground_truth]
        source = read_resampled(asset_path(asset), mini.fps, max_frames=FRAMES, start=start)
        for backend, frames in _decoded_both_ways(mini.path(item.ground_truth)).items():
            assert frames.shape == source.shape, (item.id, backend)
            assert np.array_equal(frames, source), f"{item.id}: {backend} decode differs from the source"
        checked += 1
    assert checked >= 3  # the three Pexels segments at least (the man's clip too when its face is found)


def test_self_portrait_is_ground_truth_frame_zero(mini):
    selfs = [i for i in mini.items if i.mode == "self"]
    assert any(i.split == "multi" for i in selfs)  # the side-by-side clip (a composed, odd-free layout)
    for item in selfs:
        portrait = load_image(mini.path(item.portrait))
        first = read_video(mini.path(item.ground_truth), [0])[0]
        assert np.array_equal(portrait, first), item.id


def test_lossless_writer_round_trips_odd_sizes_on_real_media(tmp_path):
    src = read_video(asset_path("sample_pexels"), list(range(12)))[:, :359, :637]  # odd height and width
    out = write_video(tmp_path / "odd.mp4", src, 25, lossless=True)
    for backend, frames in _decoded_both_ways(out).items():
        assert np.array_equal(frames, src), backend
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "gbrp"


@pytest.mark.skipif(not DEMO.is_dir(), reason="shared demo media absent")
def test_lossless_writer_round_trips_demo_media(tmp_path):
    for name in ("two_person.mp4", "jgz.mp4"):
        src = read_video(DEMO / name, list(range(8)))
        out = write_video(tmp_path / name, src, NTSC, lossless=True)
        for backend, frames in _decoded_both_ways(out).items():
            assert np.array_equal(frames, src), (name, backend)


def test_ntsc_rates_are_exact():
    assert exact_rate(29.97) == NTSC and exact_rate(59.94) == Fraction(60000, 1001)
    assert exact_rate(23.976) == Fraction(24000, 1001) and exact_rate(float(NTSC)) == NTSC
    assert exact_rate(25.0) == 25 and exact_rate(12.5) == Fraction(25, 2) and exact_rate(NTSC) == NTSC
    with pytest.raises(ValueError):
        exact_rate(0.0)
    # 120 frames at 29.97 fps last 4.004 s: exactly 120 sample times lie before the end, 119 in 3.97063 s
    assert frames_within(Fraction(4004, 1000), NTSC) == 120 and frames_within(119 / NTSC, NTSC) == 119


def _retimed_clip(path: Path, frames: np.ndarray) -> Path:
    """Real frames re-timed to exactly 30000/1001 fps (pts = i * 1001 in 1/30000 s), stored losslessly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264rgb", rate=NTSC)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "rgb24"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 30000)
        stream.options = {"qp": "0", "preset": "ultrafast"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i * 1001
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def pexels_120():
    return read_video(asset_path("sample_pexels"), list(range(120)))[:, ::2, ::2].copy()  # 320x180


def test_prepare_ntsc_clip_with_exactly_its_frames(tmp_path, pexels_120):
    clip = _retimed_clip(tmp_path / "driving" / "woman.mp4", pexels_120)
    assert len(resample_indices([float(t) for t in range(120)], 1)) == 120  # float input still counts right
    (tmp_path / "portraits").mkdir()
    out = tmp_path / "bench"
    run = CliRunner().invoke(cli, ["prepare", "--portraits", str(tmp_path / "portraits"), "--driving",
                                   str(clip.parent), "--out", str(out), "--fps", "29.97", "--frames", "120"])
    assert run.exit_code == 0, run.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["fps"] == 29.97 and manifest["frames"] == 120
    bench = load_benchmark(out)
    assert bench.rate == NTSC and all(i.rate == NTSC for i in bench.items)
    (item,) = bench.items
    truth = read_video(bench.path(item.ground_truth))
    assert truth.shape[0] == 120 and np.array_equal(truth, pexels_120)
    assert np.array_equal(load_image(bench.path(item.portrait)), pexels_120[0])
    with av.open(str(bench.path(item.ground_truth))) as container:
        assert container.streams.video[0].average_rate == NTSC


def test_prepare_refuses_a_clip_one_frame_short(tmp_path, pexels_120):
    clip = _retimed_clip(tmp_path / "driving" / "woman.mp4", pexels_120[:119])
    (tmp_path / "portraits").mkdir()
    run = CliRunner().invoke(cli, ["prepare", "--portraits", str(tmp_path / "portraits"), "--driving",
                                   str(clip.parent), "--out", str(tmp_path / "bench"), "--fps", "29.97",
                                   "--frames", "120"])
    assert run.exit_code != 0
    lines = [line for line in run.output.splitlines() if line.strip()]
    error = [line for line in lines if "no usable driving video" in line]
    assert len(error) == 1, run.output
    assert str(clip) in error[0] and "119 frames at 29.97 fps, fewer than the 120 asked" in error[0]
    assert "--frames 119" in error[0]
    assert not (tmp_path / "bench" / "manifest.json").exists()
