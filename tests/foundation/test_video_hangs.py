"""A read that stops before the end of the file, for whatever reason, must not hang.

Each scenario runs in a child process under a timeout, so that a hang fails the test instead of hanging
the suite. Before the fix every one of them hung (``exprbench.video._pyav_decoder``: a PyAV decoder
freed with frames in flight deadlocked on the GIL with the decoder-log callback).
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from exprbench.assets import asset_path

CHILD_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def pexels():
    return asset_path("sample_pexels")


def _run(code: str, *args: object) -> str:
    """Run ``code`` in a fresh interpreter (SIGINT at its default, as in a terminal); its stdout."""
    try:
        run = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                             text=True, timeout=CHILD_TIMEOUT_S, env=os.environ)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the child hung (killed after {CHILD_TIMEOUT_S} s); its output: {exc.stdout!r}")
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_error_mid_stream_does_not_hang(pexels):
    """The decode deadline raises while the decoder's threads hold frames (hung every time before)."""
    out = _run("""
        import sys
        from exprbench.errors import InputError
        from exprbench.video import read_video
        for backend in ("pyav", "auto", "pyav", "auto"):
            try:
                read_video(sys.argv[1], timeout=0, backend=backend)
            except InputError as exc:
                assert "decoding took longer" in str(exc)
        print("done")
    """, pexels)
    assert out.strip() == "done"


def test_consumer_that_stops_early_does_not_hang(pexels):
    """A caller that closes the reader after one chunk, and reads that need only the first frames."""
    out = _run("""
        import sys
        from exprbench.video import iter_frames, probe, read_video
        info = probe(sys.argv[1])
        for k in range(30):
            reader = iter_frames(info, chunk=1, backend="pyav")
            next(reader)
            reader.close()
            del reader
        for k in range(0, info.n_frames, 20):
            assert read_video(info, [k], backend="pyav").shape == (1, 360, 640, 3)
        print("done")
    """, pexels)
    assert out.strip() == "done"


def test_corrupt_and_truncated_files_do_not_hang(pexels, tmp_path):
    """Damaged frames make the decoder's threads log warnings, through the Python callback."""
    data = bytearray(pexels.read_bytes())
    for pos in np.random.default_rng(3).integers(len(data) // 5, len(data) - 64, 40):
        data[pos] ^= 0xFF
    (tmp_path / "flipped.mp4").write_bytes(bytes(data))
    (tmp_path / "cut.mp4").write_bytes(pexels.read_bytes()[:400_000])
    out = _run("""
        import sys
        from exprbench.decode_log import DecodeReport
        from exprbench.errors import InputError
        from exprbench.video import iter_frames, probe, read_video
        flipped, cut = probe(sys.argv[1]), probe(sys.argv[2])
        report = DecodeReport()
        assert len(read_video(flipped, backend="pyav", report=report)) == flipped.n_frames
        assert report.errors > 0
        for k in range(100, flipped.n_frames, 15):
            read_video(flipped, [k], backend="pyav")
        for k in range(5):
            reader = iter_frames(cut, chunk=1, backend="pyav")
            next(reader)
            reader.close()
        assert len(read_video(cut)) == cut.n_frames
        try:
            read_video(cut, [cut.n_frames + 5])
        except InputError:
            pass
        print("done")
    """, tmp_path / "flipped.mp4", tmp_path / "cut.mp4")
    assert out.strip() == "done"
