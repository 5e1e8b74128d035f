"""Decoder error accounting: FFmpeg's messages are counted and summarised, never streamed to stderr.

Why: a bit-flipped or damaged H.264 file decodes "successfully" (the decoder conceals broken
macroblocks with neighbouring pixels) while FFmpeg prints a line per damaged slice straight to
stderr from C code, which no Python logging setting reaches. A run then scores damaged frames
silently, and the only sign is a hundred raw lines that drown the toolkit's own warnings.

How: a log callback is installed (ctypes) in each FFmpeg ``libavutil`` the decoders load (decord
bundles its own copy; PyAV another). It formats each message at warning level or above and hands
it to every ``DecodeReport`` whose file is being decoded at that moment (``decoding``); nothing is
printed. decord decodes ahead in a background thread, so a report stays active for the whole life of
its reader, not only inside a call; two files decoded at the same time (eval's paired pass reads the
generated video and the ground truth side by side) would share their messages, which is why eval
takes the count from its face pass, where the generated video is decoded alone. Everyone gets one
warning per file and count (``warn_once``).

What is counted: decoder messages, i.e. FFmpeg log lines at warning level or above, except the RGB
converter's (swscaler); for H.264 one damaged slice gives one or two (the cause, then "error while
decoding MB x y"). The count indicates damage, it is not a number of frames: zero means the decoder
reported nothing.

Platform note: the callback receives a ``va_list``, which ctypes can pass through as a pointer on
x86-64 and AArch64 Linux/macOS ABIs where ``va_list`` is an array or pointer type; elsewhere FFmpeg is
only silenced (``av_log_set_level(AV_LOG_QUIET)``) and counts stay 0.
"""

from __future__ import annotations

import _thread
import ctypes
import glob
import logging
import os
import platform
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

AV_LOG_QUIET = -8
AV_LOG_WARNING = 24
_SAMPLES = 3
# The RGB converter's notes are not decoder messages: "[swscaler @ 0x...] deprecated pixel format used"
# comes once per conversion of every full-range (yuvj420p) video, e.g. MJPEG and many phone clips,
# which were reported as damaged.
_CONVERTER_PREFIX = "[swscaler"
_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
_lock = threading.Lock()
_active: list[DecodeReport] = []
_installed: dict[str, object] = {}  # libavutil path -> callback (kept alive while the library is loaded)
_callbacks: set[object] = set()  # the Python functions behind the installed callbacks
_warned: set[tuple[str, int]] = set()
_previous_hook = sys.unraisablehook


@dataclass
class DecodeReport:
    """Decoder messages seen while decoding one file: how many, and the first few (addresses removed)."""

    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def record(self, message: str) -> None:
        self.errors += 1
        text = re.sub(r" @ (0x)?[0-9a-fA-F]+\]", "]", message.strip())
        if len(self.samples) < _SAMPLES and text not in self.samples:
            self.samples.append(text)


def _libavutil_paths() -> list[str]:
    """The bundled libavutil copies of decord and PyAV (whichever are installed)."""
    paths = []
    for package in ("decord", "av"):
        try:
            module = __import__(package)
        except ImportError:
            continue
        base = os.path.dirname(os.path.dirname(module.__file__))
        paths += sorted(glob.glob(os.path.join(base, f"{package}.libs", "libavutil*.so*")))
    return paths


def _can_forward_va_list() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def _make_callback(lib: ctypes.CDLL):  # noqa: ANN202 - a ctypes callback
    lib.av_log_format_line.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p,
                                       ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]

    def callback(avcl, level, fmt, args):  # noqa: ANN001 - called by FFmpeg, possibly on its threads
        if level > AV_LOG_WARNING or not _active:
            return
        line = ctypes.create_string_buffer(1024)
        prefix = ctypes.c_int(1)
        lib.av_log_format_line(avcl, level, fmt, args, line, len(line), ctypes.byref(prefix))
        message = line.value.decode("utf-8", "replace")
        if message.startswith(_CONVERTER_PREFIX):
            return
        with _lock:
            for report in _active:
                report.record(message)

    _callbacks.add(callback)
    return _CALLBACK(callback)


def _redeliver_interrupt(unraisable) -> None:  # noqa: ANN001 - sys.UnraisableHookArgs
    """``sys.unraisablehook``: a Ctrl-C that lands in the log callback is raised again in the main thread.

    Why: FFmpeg logs from the main thread too (thousands of trace lines while a file is opened and
    demuxed), and Python raises a pending KeyboardInterrupt at the first instruction of the next Python
    code that runs, often the callback. ctypes cannot pass an exception back through C, so it reports
    it as unraisable and drops it: 47 of 100 Ctrl-C during short reads were lost (the read went on).
    A new thread raises it again (``interrupt_main``), after this hook has returned: raised from here,
    it would land in this hook and be dropped the same way. Should it land in the callback again, it
    comes back here, until it reaches the reader's own code.
    """
    if issubclass(unraisable.exc_type, KeyboardInterrupt) and unraisable.object in _callbacks:
        _thread.start_new_thread(_thread.interrupt_main, ())
    else:
        _previous_hook(unraisable)


def install() -> None:
    """Route every loaded FFmpeg's log into ``DecodeReport``s (idempotent; call after importing decoders)."""
    global _previous_hook
    if sys.unraisablehook is not _redeliver_interrupt:
        _previous_hook, sys.unraisablehook = sys.unraisablehook, _redeliver_interrupt
    for path in _libavutil_paths():
        if path in _installed:
            continue
        try:
            lib = ctypes.CDLL(path)
            if _can_forward_va_list():
                callback = _make_callback(lib)
                lib.av_log_set_callback(callback)
                lib.av_log_set_level(AV_LOG_WARNING)
            else:
                callback = None
                lib.av_log_set_level(AV_LOG_QUIET)
        except (OSError, AttributeError) as exc:  # an FFmpeg build without these symbols: leave it alone
            log.debug("%s: cannot install the decoder log callback (%s)", path, exc)
            callback = None
        _installed[path] = callback


@contextmanager
def decoding(report: DecodeReport) -> Iterator[DecodeReport]:
    """Attribute decoder messages to ``report`` while the block runs (readers open and decoding)."""
    install()
    with _lock:
        _active.append(report)
    try:
        yield report
    finally:
        with _lock:
            _active.remove(report)


def warn_once(path: str | Path, report: DecodeReport) -> None:
    """One warning per file and error count per process (a file decoded twice warns once)."""
    if not report.errors:
        return
    key = (str(path), report.errors)
    if key in _warned:
        return
    _warned.add(key)
    log.warning("%s: %d decoder error message(s): the file is damaged and the decoder concealed it, so "
                "scores on it are unreliable (re-encode or regenerate it); first: %s", path, report.errors,
                "; ".join(report.samples))
