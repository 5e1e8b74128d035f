"""Worker processes that die with their parent and leave Ctrl-C to it.

Why: a ``ProcessPoolExecutor`` worker whose parent is killed (SIGKILL, OOM killer, a closed
terminal) keeps running as an orphan (PPID 1, about 1 GB each with the face models loaded), and a
Ctrl-C reaches every process of the terminal's group, so each worker prints its own traceback while
the parent waits for queued work. Here each worker

- asks the kernel to SIGKILL it when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``); elsewhere
  a daemon thread polls ``getppid`` every 0.2 s and exits;
- exits at once if the parent is already gone by the time it starts (the race prctl leaves);
- ignores SIGINT: the parent handles Ctrl-C, kills the workers (``stop_workers``) and keeps
  what finished.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1
POLL_S = 0.2


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(POLL_S)


def init_worker(parent: int) -> None:
    """Pool initializer: die with ``parent``; ignore SIGINT."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def worker_pool(workers: int, initializer: Callable[[int], None] = init_worker) -> ProcessPoolExecutor:
    """A spawn-context pool whose workers die with this process (see the module docstring).

    ``initializer`` receives this process's pid and must call :func:`init_worker` with it (a pool that
    needs more per-worker setup wraps it)."""
    import multiprocessing as mp

    return ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=initializer,
                               initargs=(os.getpid(),))


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel queued work and kill the workers now (Ctrl-C): nothing waits for running items, whose
    work is redone on resume.

    The executor's manager thread is joined last (it sees the dead workers at once and closes the
    queues): left running, it could be between unlinking a queue's semaphore and telling the resource
    tracker when the process leaves with ``os._exit``, and the tracker then printed "leaked semaphore"
    warnings after the one-line Ctrl-C message (seen in the Ctrl-C build test)."""
    processes = list(getattr(pool, "_processes", {}).values())  # the executor exposes no public handle
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=1.0)
    if manager is not None:
        manager.join(timeout=2.0)
