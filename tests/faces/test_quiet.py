"""Native log chatter (MediaPipe, TFLite, glog) stays off stderr unless -v; other stderr output survives."""

from __future__ import annotations

import os
import subprocess
import sys

from exprbench.assets import asset_path
from exprbench.native_log import is_native_log_line, native_logs_filtered

# what MediaPipe 1.2.2 printed per landmarker before the filter (verbatim shapes)
CHATTER = [
    "W0000 00:00:1796302660.071233   20483 inference_feedback_manager.cc:121] Feedback manager requires a model",
    "I0000 00:00:1796301870.821724    8163 face_landmarker_graph.cc:181] Sets FaceBlendshapesGraph acceleration",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
]


def test_the_filter_knows_native_lines_and_nothing_else():
    assert all(is_native_log_line(line) for line in CHATTER)
    for line in ("warning: no face found in 12 frames of clip.mp4", "error: x.mp4: is empty", "W0000 is not a log"):
        assert not is_native_log_line(line)


def _faces(*flags: str, tmp_path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "exprbench.cli", *flags, "faces", str(asset_path("sample_single_face_video")),
           "--max-frames", "3", "--no-cache", "--identity-every", "0"]
    return subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_face_analysis_prints_no_native_line_by_default_and_all_with_v(tmp_path):
    quiet = _faces(tmp_path=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert [line for line in quiet.stderr.splitlines() if is_native_log_line(line)] == []
    loud = _faces("-v", tmp_path=tmp_path)
    assert loud.returncode == 0 and any(is_native_log_line(line) for line in loud.stderr.splitlines())


def test_other_output_written_to_fd_2_during_the_window_is_replayed(capfd):
    with native_logs_filtered():
        os.write(2, (CHATTER[0] + "\nsomething a user must see\n" + CHATTER[2] + "\n").encode())
    err = capfd.readouterr().err
    assert err == "something a user must see\n"
