"""A read that stops before the end of the file, for whatever reason, must neither hang nor swallow a Ctrl-C.

Each scenario runs in a child process under a timeout, so that a hang fails the test instead of hanging
the suite. Before the fix every one of them hung or lost interrupts (``exprbench.video._pyav_decoder``:
a PyAV decoder freed with frames in flight deadlocked on the GIL with the decoder-log callback;
``exprbench.decode_log._redeliver_interrupt``: a Ctrl-C landing in that callback was dropped).
"""

import os
import signal
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


def _default_sigint() -> None:
    """The child takes Ctrl-C as a terminal does: a job started in the background by a non-interactive
    shell (CI scripts, ``cmd &``) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt
    (every Ctrl-C of the test would be "lost")."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run(code: str, *args: object) -> str:
    """Run ``code`` in a fresh interpreter (SIGINT at its default, as in a terminal); its stdout."""
    try:
        run = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                             text=True, timeout=CHILD_TIMEOUT_S, env=os.environ, preexec_fn=_default_sigint)
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
        for k in range(0, info.n_frames, 60):
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
        for k in range(100, flipped.n_frames, 45):
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


def test_ctrl_c_during_a_read_is_prompt_and_not_lost(pexels):
    """SIGINT at random moments of short reads (opening and demuxing log thousands of trace lines through
    the callback): each one must interrupt the read, promptly. Before: 47 of 100 were lost, some hung.

    Two of 25 may be lost, no more: on an idle machine none of 2,800 was lost, but with the face tests
    running beside it about one in 100 to 300 still was (1 of 383 and 2 of 125 measured): the
    re-delivered interrupt was tripped (``_thread.interrupt_main``) and never raised, for a reason not
    found yet. Losing 2 of 25 then happens in about one run in 100; the bug this guards against loses
    about half.
    """
    out = _run("""
        import os, random, signal, sys, threading, time
        from exprbench.video import iter_frames, probe
        random.seed(1)
        latencies, lost = [], 0
        for k in range(25):
            sent = []
            timer = threading.Timer(random.uniform(0.0, 0.2),
                                    lambda: (sent.append(time.monotonic()), os.kill(os.getpid(), signal.SIGINT)))
            try:
                timer.start()  # inside: a timer may fire before start() returns
                while not sent or time.monotonic() - sent[0] < 5:
                    for chunk in iter_frames(probe(sys.argv[1]), list(range(5)), backend="pyav"):
                        pass
                lost += 1
            except KeyboardInterrupt:
                latencies.append(time.monotonic() - sent[0])
            timer.join()
        print(lost, max(latencies))
    """, pexels)
    lost, worst = out.split()
    assert int(lost) <= 2, f"{lost} of 25 Ctrl-C were lost"
    assert float(worst) < 2.0, f"a Ctrl-C took {float(worst):.2f} s to stop the read"
