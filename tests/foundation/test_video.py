"""Video/image I/O on the real sample media and on corrupted copies made here."""

import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from exprbench.assets import asset_path
from exprbench.decode_log import DecodeReport
from exprbench.errors import InputError
from exprbench.video import (
    VideoWriter,
    frame_timestamps,
    iter_frames,
    load_image,
    probe,
    read_resampled,
    read_video,
    resample_indices,
    write_video,
)


@pytest.fixture(scope="module")
def pexels():
    return asset_path("sample_pexels")


def _index_frames(n: int, h: int = 64, w: int = 96) -> np.ndarray:
    """Frames whose index is written as 8 black/white blocks: survives H.264 exactly enough to read back."""
    frames = np.zeros((n, h, w, 3), np.uint8)
    for i in range(n):
        for bit in range(8):
            if (i >> bit) & 1:
                frames[i, :, bit * (w // 8):(bit + 1) * (w // 8)] = 255
    return frames


def _decode_index(frames: np.ndarray) -> list[int]:
    w = frames.shape[2]
    out = []
    for f in frames:
        bits = [f[:, b * (w // 8) + 2:(b + 1) * (w // 8) - 2].mean() > 127 for b in range(8)]
        out.append(sum(1 << b for b, on in enumerate(bits) if on))
    return out


def test_probe_real_clips(pexels):
    info = probe(pexels)
    assert (info.width, info.height, info.n_frames, info.codec) == (640, 360, 472, "h264")
    assert info.fps == pytest.approx(24000 / 1001, rel=1e-4)
    assert info.duration == pytest.approx(19.686, abs=0.01)
    assert info.rotation == 0 and not info.over_reported
    hevc = probe(asset_path("sample_face_noface"))
    assert (hevc.codec, hevc.width, hevc.height, hevc.n_frames) == ("hevc", 960, 540, 169)
    # no_face.mp4 has 98 packets, 3 of them before the edit list's start: 95 frames are shown
    edit = probe(asset_path("sample_no_face"))
    assert (edit.n_frames, edit.reported_frames) == (95, 98)


def test_edit_list_priming_frames_are_not_returned():
    """decord alone would pad the clip with 3 duplicates of frame 94; both backends must agree on 95."""
    path = asset_path("sample_no_face")
    a, b = read_video(path, backend="decord"), read_video(path, backend="pyav")
    assert a.shape[0] == b.shape[0] == 95
    assert np.array_equal(a, b)


def test_hevc_decodes_with_both_backends():
    path = asset_path("sample_face_noface")
    idx = list(range(0, 169, 12))
    a = read_video(path, idx, backend="decord")
    b = read_video(path, idx, backend="pyav")
    assert a.shape == (len(idx), 540, 960, 3)
    assert np.array_equal(a, b)


def test_chunked_iteration_is_bounded_and_complete(pexels):
    sizes = [c.shape[0] for c in iter_frames(pexels, range(100), chunk=16)]
    assert max(sizes) <= 16 and sum(sizes) == 100


def test_resample_pexels_to_25fps_is_frame_accurate(pexels):
    times = frame_timestamps(pexels)
    idx = resample_indices(times, 25.0)
    assert len(idx) == 493  # 472 frames at 24000/1001 last 19.6863 s; sample 492 at 19.68 s lies before the end
    # output frame k at k/25 s shows the source frame whose interval contains it
    expected = np.floor(np.arange(493) / 25 * (24000 / 1001) + 1e-6).astype(int)
    assert np.array_equal(idx, expected)
    out = read_resampled(pexels, 25.0, max_frames=60)
    src = read_video(pexels, list(range(60)))
    for k in (0, 1, 24, 25, 59):
        assert np.array_equal(out[k], src[idx[k]])


def test_resample_by_timestamps_on_variable_frame_rate(tmp_path):
    """A VFR clip (gaps in its timestamps) resamples by time, not by frame count."""
    path = tmp_path / "vfr.mp4"
    frames = _index_frames(20)
    pts_ms = [0, 40, 80, 120, 400, 440, 480, 520, 560, 600, 640, 680, 720, 760, 800, 840, 880, 920, 960, 1000]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        s.time_base = Fraction(1, 1000)
        s.codec_context.time_base = Fraction(1, 1000)
        s.options = {"crf": "10", "bf": "0"}
        for i, t in enumerate(pts_ms):
            f = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            f.pts = t
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    times = frame_timestamps(path)
    assert np.allclose(times * 1000, pts_ms, atol=1)
    out = read_resampled(path, 25.0)
    got = _decode_index(out)
    # 40 ms grid: frames 0-3, then frame 3 held through the 280 ms gap, then one per 40 ms
    assert got[:11] == [0, 1, 2, 3, 3, 3, 3, 3, 3, 3, 4]
    assert got[-1] == 19 and len(got) == 26


def test_write_read_roundtrip_exact_fps(tmp_path, pexels):
    src = read_video(pexels, list(range(30)))
    for fps in (25.0, Fraction(24000, 1001)):
        out = write_video(tmp_path / f"rt_{float(fps):.3f}.mp4", src, fps)
        info = probe(out)
        assert info.n_frames == 30 and info.codec == "h264"
        assert info.fps == pytest.approx(float(fps), rel=1e-6)
        back = read_video(out)
        assert back.shape == src.shape
        assert np.abs(back.astype(int) - src).mean() < 2.5
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"


def test_writer_odd_size_and_atomic(tmp_path):
    frames = _index_frames(5, h=33, w=97)
    out = write_video(tmp_path / "odd.mp4", frames, 25)
    info = probe(out)
    assert (info.width, info.height) == (96, 32)
    assert _decode_index(read_video(out)) == [0, 1, 2, 3, 4]
    target = tmp_path / "crash.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(target, 25) as w:
            w.write(frames)
            raise RuntimeError("generator crashed")
    assert not target.exists() and not list(tmp_path.glob("crash.mp4*"))


def test_rotated_video_is_upright_with_both_backends(tmp_path):
    path = tmp_path / "rot.mp4"
    frames = np.zeros((4, 32, 64, 3), np.uint8)
    frames[:, :, :8] = 255  # white band on the left edge
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 32, "yuv420p"
        s.set_display_rotation(90)
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    info = probe(path)
    assert (info.rotation, info.width, info.height) == (90, 32, 64)
    a, b = read_video(path, backend="decord"), read_video(path, backend="pyav")
    assert a.shape == b.shape == (4, 64, 32, 3)
    assert np.array_equal(a, b)  # decord transposes before the RGB conversion, PyAV after: same pixels
    assert a[0, -8:].mean() > 200 and a[0, :8].mean() < 50  # the band is now at the bottom


@pytest.fixture()
def decord_readers(monkeypatch):
    """Paths that a decord ``VideoReader`` was opened on during the test."""
    import decord

    opened = []
    real = decord.VideoReader

    def record(path, *args, **kwargs):
        opened.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(decord, "VideoReader", record)
    return opened


@pytest.mark.parametrize("name", ["sample_pexels", "sample_single_face_video", "sample_face_noface",
                                  "sample_noface_face", "sample_no_face"])
def test_auto_streams_with_pyav_and_gives_decords_pixels(name, decord_readers):
    """Scores depend on pixels: streaming with PyAV (memory flat in the video's length) must return what
    decord, the reader before, returned for every frame of the real sample media."""
    path = asset_path(name)
    auto = read_video(path)
    assert decord_readers == []
    assert np.array_equal(auto, read_video(path, backend="decord"))


@pytest.mark.parametrize("size", [(360, 640), (359, 637)])  # RGB, no chroma subsampling: odd sizes too
def test_lossless_clip_reads_back_bit_for_bit_with_either_backend(tmp_path, pexels, decord_readers, size):
    src = np.ascontiguousarray(read_video(pexels, list(range(0, 240, 8)))[:, :size[0], :size[1]])
    path = write_video(tmp_path / "clip.mp4", src, 25, lossless=True)
    assert np.array_equal(read_video(path), src) and decord_readers == []
    assert np.array_equal(read_video(path, backend="decord"), src)


def _encode(path, frames: np.ndarray, codec: str, pix_fmt: str):
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=25)
        s.height, s.width = frames.shape[1:3]
        s.pix_fmt = pix_fmt
        for i, image in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return path


@pytest.mark.parametrize("case", ["10bit", "odd_size"])
def test_auto_keeps_decord_where_the_rgb_conversions_differ(tmp_path, pexels, decord_readers, case):
    """decord's FFmpeg 4.1 and PyAV's FFmpeg 8 convert 10-bit and odd-sized frames to different RGB
    values: ``auto`` keeps decord's, so scores do not move."""
    src = read_video(pexels, list(range(8)))
    if case == "10bit":
        path = _encode(tmp_path / "ten.mp4", src, "libx264", "yuv420p10le")
    else:
        path = _encode(tmp_path / "odd.mp4", src[:, :359, :637], "mpeg4", "yuv420p")
    auto, pyav = read_video(path), read_video(path, backend="pyav")
    assert decord_readers == [str(path)]
    assert np.array_equal(auto, read_video(path, backend="decord"))
    assert not np.array_equal(auto, pyav)  # why decord is kept; if this fails, PyAV could read them too


@pytest.mark.parametrize("codec", ["mjpeg", "libx264"])
@pytest.mark.parametrize("backend", ["auto", "pyav", "decord"])
def test_full_range_video_is_not_reported_as_damaged(tmp_path, pexels, codec, backend):
    """Converting full-range (yuvj420p) frames to RGB makes FFmpeg's scaler warn "deprecated pixel
    format used"; that note is not decoder damage (MJPEG and many phone clips are full range)."""
    path = _encode(tmp_path / f"{codec}.mp4", read_video(pexels, list(range(4))), codec, "yuvj420p")
    report = DecodeReport()
    read_video(path, backend=backend, report=report)
    assert (report.errors, report.samples) == (0, [])


def test_auto_seeks_with_decord_for_a_few_frames_far_apart(pexels, decord_readers):
    """472 frames, a keyframe every 72: the last frame alone is 1 decode after a seek for decord, 472 for
    a sequential reader; every 8th frame is read sequentially."""
    last = read_video(pexels, [471])
    assert decord_readers == [str(pexels)]
    assert np.array_equal(last, read_video(pexels, [471], backend="pyav"))
    read_video(pexels, list(range(0, 472, 8)))
    assert decord_readers == [str(pexels)]


def test_images_exif_alpha_greyscale(tmp_path):
    assert load_image(asset_path("sample_multi_face")).shape == (667, 1000, 3)
    rgba = np.asarray(Image.open(asset_path("sample_alpha_image")))
    assert rgba.shape[-1] == 4  # a real RGBA file (fully opaque): the alpha channel is dropped
    assert np.array_equal(load_image(asset_path("sample_alpha_image")), rgba[..., :3])
    half = np.zeros((8, 8, 4), np.uint8)
    half[..., 0] = 200
    half[:, :4, 3] = 0
    half[:, 4:, 3] = 128
    Image.fromarray(half, "RGBA").save(tmp_path / "alpha.png")
    img = load_image(tmp_path / "alpha.png")
    assert (img[:, :4] == 255).all()  # transparent: composited on white
    assert np.allclose(img[0, 5], [228, 127, 127], atol=1)  # 50% red over white
    grey = load_image(asset_path("sample_greyscale_image"))
    assert grey.ndim == 3 and np.array_equal(grey[..., 0], grey[..., 2])
    # EXIF orientation 6 (rotate 90 clockwise for display)
    base = np.zeros((20, 40, 3), np.uint8)
    base[:, :5] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(base).save(tmp_path / "exif.jpg", exif=exif, quality=95)
    upright = load_image(tmp_path / "exif.jpg")
    assert upright.shape == (40, 20, 3) and upright[:5].mean() > 200


@pytest.mark.parametrize("case", ["missing", "zero", "text", "image", "truncated_header", "bad_codec"])
def test_bad_video_inputs_give_one_line_errors(tmp_path, pexels, case):
    data = pexels.read_bytes()
    path = tmp_path / f"{case}.mp4"
    expected = {
        "missing": "file not found", "zero": "empty (0 bytes)", "text": "not a readable video",
        "image": "is an image, not a video", "truncated_header": "is truncated",
        "bad_codec": "codec this FFmpeg build cannot decode",
    }[case]
    if case == "zero":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("this is not a video\n" * 10)
    elif case == "image":
        path = asset_path("sample_single_face")
    elif case == "truncated_header":
        path.write_bytes(data[:2000])
    elif case == "bad_codec":
        path.write_bytes(data.replace(b"avc1", b"zzz9"))
    with pytest.raises(InputError) as err:
        probe(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and expected in message


def test_truncated_tail_reads_what_is_there(tmp_path, pexels, caplog):
    path = tmp_path / "cut.mp4"
    path.write_bytes(pexels.read_bytes()[:400_000])
    info = probe(path)
    assert info.over_reported and 0 < info.n_frames < 472
    assert "truncated" in caplog.text
    frames = read_video(path)
    assert len(frames) == info.n_frames
    with pytest.raises(InputError, match=f"frame {info.n_frames + 5} was requested but only {info.n_frames}"):
        read_video(path, [info.n_frames + 5])


def test_decode_timeout_names_the_file(pexels):
    with pytest.raises(InputError, match="WolfgangLanger_Pexels.mp4: decoding took longer"):
        read_video(pexels, timeout=0.0)


@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_decode_timeout_counts_decoding_not_the_callers_work(pexels, backend):
    """Eval spends minutes on the metrics of each 4K chunk; only the decoder's own time counts."""
    import time

    for chunk in iter_frames(pexels, range(32), chunk=8, timeout=1.5, backend=backend):
        time.sleep(0.5)  # 2 s in all with the chunks, far more than the budget


def test_unreadable_image(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(asset_path("sample_single_face").read_bytes()[:300])
    with pytest.raises(InputError, match="bad.jpg"):
        load_image(bad)
    with pytest.raises(InputError, match="not a readable image"):
        load_image(asset_path("sample_no_face"))


def test_cli_error_is_one_line_and_verbose_shows_traceback(tmp_path):
    bad = tmp_path / "zero.mp4"
    bad.write_bytes(b"")
    run = subprocess.run([sys.executable, "-m", "exprbench.cli", "probe", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: {bad}: is empty (0 bytes) (re-download or re-export it)"
    verbose = subprocess.run([sys.executable, "-m", "exprbench.cli", "-v", "probe", str(bad)], capture_output=True,
                             text=True)
    assert verbose.returncode != 0 and "Traceback" in verbose.stderr
    ok = subprocess.run([sys.executable, "-m", "exprbench.cli", "probe", str(asset_path("sample_pexels"))],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "640x360 h264 23.976 fps 472 frames" in ok.stdout
