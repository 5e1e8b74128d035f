"""Resumable eval, workers dying with their parent, decode-error reporting and one-pair scoring,
with real processes and signals on the real mini benchmark."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from bench_media import copy_truth, truth_frames, write_results

from exprbench.benchmark.results import check_result
from exprbench.evaluate import EvalOptions, evaluate
from exprbench.score import score_pair
from exprbench.scoring import resume

ITEMS = ["single-self-man", "single-cross-astronaut", "single-self-pexels_00s"]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def blurred(mini, tmp_path_factory):
    from scipy.ndimage import gaussian_filter

    results = tmp_path_factory.mktemp("results")
    write_results(mini, results, "blur", lambda it: np.stack(
        [gaussian_filter(f, sigma=(2, 2, 0)) for f in truth_frames(mini, it)]) if it.id in ITEMS else None)
    return results


def _cmd(mini, results, out, *extra):
    return [sys.executable, "-m", "exprbench.cli", "-q", "eval", "--bench", str(mini.root), "--results", str(results),
            "--method", "blur", "--out", str(out), "--items", ",".join(ITEMS), *extra]


def _outputs(out):
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("timings")
    return (out / "per_item.csv").read_bytes(), (out / "config.json").read_bytes(), summary


def _kill_when(proc, partial, count, timeout=300):
    """SIGKILL ``proc`` once ``partial`` holds ``count`` finished items (0: as soon as it runs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(partial.glob("*.npz"))) >= count:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_killed_eval_resumes_byte_identical(mini, blurred, tmp_path):
    reference = tmp_path / "uninterrupted"
    subprocess.run(_cmd(mini, blurred, reference), env=ENV, check=True, capture_output=True)
    out = tmp_path / "killed"
    partial = resume.partial_dir(out)
    for count in (0, 1, 2):  # killed before any item, after one, after two
        proc = subprocess.Popen(_cmd(mini, blurred, out), env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        _kill_when(proc, partial, count)
        assert not (out / "summary.json").exists()
        assert len(list(partial.glob("*.npz"))) >= count
    cmd = _cmd(mini, blurred, out)
    cmd.remove("-q")  # the resume line is at INFO
    run = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "resuming: 2 of 3 items already scored" in run.stderr
    assert _outputs(out) == _outputs(reference)
    assert not partial.exists()  # removed once the run is written


def test_changed_result_or_protocol_is_rescored(mini, blurred, tmp_path, monkeypatch):
    item = mini.item(ITEMS[0])
    options = EvalOptions(items=[item.id])
    check = check_result(blurred, "blur", item)
    key = resume.item_key(mini, item, check, options, ())
    assert key == resume.item_key(mini, item, check, options, ())
    assert key != resume.item_key(mini, item, check, EvalOptions(items=[item.id], metrics=("psnr",)), ())
    copy = tmp_path / "results"
    copy_truth(mini, copy, "blur")  # other content under the same name
    assert key != resume.item_key(mini, item, check_result(copy, "blur", item), options, ())
    import exprbench.protocol

    changed = {**exprbench.protocol.protocol_dict(), "version": "changed"}
    monkeypatch.setattr(exprbench.protocol, "protocol_dict", lambda: changed)
    assert key != resume.item_key(mini, item, check, options, ())


def _children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid):
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split(") ")[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_workers_die_with_parent_and_ctrl_c_keeps_finished(mini, blurred, tmp_path, how):
    """Kill the parent of --workers 2: no worker survives it; Ctrl-C stops within a second, no
    traceback, and the finished items stay on disk for the rerun."""
    out = tmp_path / "ev"
    partial = resume.partial_dir(out)
    proc = subprocess.Popen(_cmd(mini, blurred, out, "--workers", "2"), env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            # a background job of a non-interactive shell inherits SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not list(partial.glob("*.npz")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) >= 2 and proc.poll() is None
    start = time.monotonic()
    proc.send_signal(getattr(signal, how))
    proc.wait(timeout=10)
    stopped = time.monotonic() - start
    time.sleep(1.0)
    assert [w for w in workers if _alive(w)] == []
    assert list(partial.glob("*.npz"))  # finished items kept for the rerun
    if how == "SIGINT":
        # target 1 s (issues 12 and 16); measured 0.16 s once the CLI skips the interpreter's teardown
        # (exprbench.cli.common._exit_now), 2-4 s before; the margin is for a loaded CI machine
        assert stopped < 1.5, f"Ctrl-C took {stopped:.2f} s"
        assert proc.returncode == 130
        assert "Traceback" not in proc.stderr.read()


def test_bit_flipped_result_is_counted_and_reported(mini, blurred, tmp_path):
    item = mini.item(ITEMS[0])
    data = bytearray((blurred / "blur" / f"{item.id}.mp4").read_bytes())
    rng = np.random.default_rng(3)
    for pos in rng.integers(len(data) // 5, len(data) - 64, 12):
        data[pos] ^= 0xFF
    results = tmp_path / "results"
    (results / "blur").mkdir(parents=True)
    (results / "blur" / f"{item.id}.mp4").write_bytes(bytes(data))
    cmd = [sys.executable, "-m", "exprbench.cli", "eval", "--bench", str(mini.root), "--results", str(results),
           "--method", "blur", "--out", str(tmp_path / "ev"), "--items", item.id, "--keep-going"]
    run = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    assert "[h264 @" not in run.stderr  # the decoder's own lines do not reach the user
    if run.returncode == 0:
        summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
        assert summary["decode_errors"]["total"] > 0
        assert summary["decode_errors"]["items"][item.id] == summary["decode_errors"]["total"]
        assert "have decoder errors" in run.stderr and item.id in run.stderr
    else:  # damage the decoder cannot conceal: one clear line naming the file
        assert str(results / "blur") in run.stderr and "Traceback" not in run.stderr


def test_score_pair_matches_eval(mini, blurred, tmp_path):
    import pandas as pd

    item = mini.item("single-self-man")
    evaluate(mini.root, blurred, "blur", tmp_path / "ev", EvalOptions(items=[item.id]))
    row = pd.read_csv(tmp_path / "ev" / "per_item.csv").iloc[0]
    rows = score_pair(blurred / "blur" / f"{item.id}.mp4", mini.path(item.ground_truth), mini.path(item.portrait))
    assert len(rows) == 1
    keys = [k for k in row.index if "@" in k]
    assert {"psnr@v2", "lpips@v2", "lmd@v2", "csim@v2"} <= set(keys)
    for key in keys:
        assert rows[0][key] == pytest.approx(row[key], rel=1e-5, abs=1e-9), key
    cli = subprocess.run([sys.executable, "-m", "exprbench.cli", "score", str(blurred / "blur" / f"{item.id}.mp4"),
                          "--reference", str(mini.path(item.ground_truth)), "--portrait", str(mini.path(item.portrait)),
                          "--json"], env=ENV, capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr[-1000:]
    printed = json.loads(cli.stdout)[0]
    assert printed["psnr@v2"] == pytest.approx(row["psnr@v2"], rel=1e-5)
