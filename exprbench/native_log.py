"""Keep native libraries' log chatter (MediaPipe, TFLite, glog, absl) off the user's terminal.

Why at the file-descriptor level: MediaPipe 1.2's C++ graph writes straight to fd 2 (three lines per
landmarker created: ``W0000 ... face_landmarker_graph.cc``, ``INFO: Created TensorFlow Lite XNNPACK
delegate``, ``WARNING: All log messages before absl::InitializeLog()``; measured 191 of 195 stderr
lines of one eval), and its GLOG_minloglevel / TF_CPP_MIN_LOG_LEVEL / ABSL settings change nothing.
So the creation call runs with fd 2 pointed at a temporary file; afterwards, every line that is not
such a native log line is written back to stderr (nothing else is lost), and with ``-v`` (logging at
DEBUG) every line is.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

NATIVE_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^:\s]+:\d+\] "  # glog / absl: W0000 00:00:... file.cc:12]
    r"|(?:INFO|WARNING|ERROR): )")  # TFLite and absl's pre-initialisation notice


def is_native_log_line(line: str) -> bool:
    return bool(NATIVE_LOG_LINE.match(line))


@contextmanager
def native_logs_filtered() -> Iterator[None]:
    """Run the body with fd 2 captured; replay what is not native log chatter (all of it under -v)."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True)
                    if not is_native_log_line(line)]
            if kept:
                os.write(2, "".join(kept).encode())
