"""Run one external method process: its own interpreter, cwd = its checkout, output to a log, a timeout.

Why a new session (process group) per run: methods launch workers (torchrun, ffmpeg, dataloaders); on a
timeout the whole group is killed (SIGTERM, then SIGKILL after a grace period), so nothing keeps a GPU
or a core busy after the harness has moved on. stdout and stderr go to one log file, which is kept and
named in every error, because the cause of a failure is almost always in the method's own output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from exprbench.errors import ExprBenchError

KILL_GRACE_S = 10.0
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


class MethodError(ExprBenchError):
    """An external method failed, timed out or produced nothing usable (one line, names the log)."""


def _tail(log: Path, lines: int = 1) -> str:
    try:
        text = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def run_logged(argv: list[str], *, cwd: Path, log: Path, timeout: float, env: dict[str, str] | None = None,
               name: str = "method", config_key: str | None = None) -> float:
    """Run ``argv``; return its wall time. Raise ``MethodError`` on a non-zero exit or a timeout."""
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **OFFLINE_ENV, **(env or {})}
    start = time.monotonic()
    with log.open("w") as out:
        out.write(f"$ cd {cwd} && {' '.join(argv)}\n")
        out.flush()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise MethodError(f"{name}: cannot start {argv[0]}: {exc.strerror}") from None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise MethodError(f"{name}: timed out after {timeout:g} s and was killed (log: {log}; raise "
                              f"{config_key or name}.timeout in the methods config if it needs longer)") from None
        except BaseException:
            _kill_group(proc)  # Ctrl-C or an error in the harness: never leave the method running
            raise
    if code != 0:
        what = f"signal {-code}" if code < 0 else f"exit code {code}"
        tail = _tail(log)
        raise MethodError(f"{name}: failed with {what} (log: {log})" + (f": {tail}" if tail else ""))
    return time.monotonic() - start


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the whole group, give it a grace period, then SIGKILL whatever is left of it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers (workers) may outlive the leader
    except ProcessLookupError:
        pass
    proc.wait()
