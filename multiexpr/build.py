"""``build()``: discover sources, skip the finished ones, run the rest on an engine, consolidate.

Engines run the same ``pipeline.process_source`` per source:

- ``local``: a process pool of ``workers`` processes (``spawn``: MediaPipe and decord hold threads that a
  forked child must not inherit); ``workers=1`` runs in this process.

Both engines schedule one task per source, largest files first, with every worker limited to one thread
per library (``_worker_init``), so N workers use N cores and not N times N threads.
- ``ray``: one Ray task per source (``num_cpus=1``), on a running cluster (``ray_address``) or a local
  instance started for the build. Workers write straight into the output folder, so on a cluster it must
  be on a shared filesystem, and ``multiexpr`` must be importable on every node.

Resume: a source whose completion marker exists is not run again. At-least-once execution plus
deterministic names and a deterministic consolidation make reruns produce the same bytes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

from exprbench.errors import InputError
from multiexpr.captioning import load_captioner
from multiexpr.config import BuildConfig, EngineConfig
from multiexpr.output import check_or_write_run_config, consolidate
from multiexpr.pipeline import done_dir, process_source
from multiexpr.sources import Source, discover

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    out: Path
    stats: dict
    processed: int  # sources run in this invocation
    skipped: int  # sources already complete (resume)
    seconds: float


THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")}


def _worker_init() -> None:
    """One core per worker: the engine, not the libraries, provides the parallelism.

    Math libraries that size their thread pools from the core count would otherwise start one thread
    per core in every worker (N workers x N threads on N cores). The variables are also passed to the
    workers' environment at start (they only act before a library loads); torch and OpenCV are told
    directly because they may already be loaded. MediaPipe's XNNPACK runs the landmarker on the calling
    thread here, and the build's own decoding uses one thread (``multiexpr.decode``).
    """
    import os

    os.environ.update(THREAD_ENV)
    import cv2
    import torch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def by_size(sources: list[Source]) -> list[Source]:
    """Largest files first (then by name): with few sources per worker, starting the longest ones first
    keeps one late large file from leaving the other workers idle. Output order does not depend on it."""
    def size(source: Source) -> int:
        try:
            return os.path.getsize(source.path)
        except OSError:
            return 0

    return sorted(sources, key=lambda s: (-size(s), s.name))


def _run_local(pending: list[Source], config: BuildConfig, out: Path, workers: int) -> Iterable[dict]:
    if workers <= 1:
        for source in pending:
            yield process_source(source, config, str(out))
        return
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update(THREAD_ENV)  # inherited by the spawned workers before they import anything
    try:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init)
        futures = [pool.submit(process_source, s, config, str(out)) for s in by_size(pending)]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    with pool:
        for future in as_completed(futures):
            yield future.result()


def _run_ray(pending: list[Source], config: BuildConfig, out: Path, workers: int, address: str | None
             ) -> Iterable[dict]:
    try:
        import ray
    except ImportError:
        raise InputError(None, "--engine ray needs Ray", "pip install 'exprbench[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        runtime_env = {"env_vars": dict(THREAD_ENV)}
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)

    @ray.remote(num_cpus=1)
    def run(source: Source) -> dict:
        _worker_init()
        return process_source(source, config, str(out))

    try:
        refs = [run.remote(s) for s in by_size(pending)]
        while refs:
            ready, refs = ray.wait(refs, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started_here:
            ray.shutdown()


def build(input_path: str | Path, out: str | Path, config: BuildConfig | None = None,
          engine: EngineConfig | None = None, *, root: str | Path | None = None, video_column: str | None = None,
          force: bool = False, limit: int | None = None,
          progress: Callable[[int, int, dict], None] | None = None) -> BuildResult:
    """Curate ``input_path`` (a folder of videos or a CSV/JSONL manifest) into ``out``.

    ``limit`` processes at most that many pending sources and stops without consolidating (used to
    build in slices; a later call finishes the job). ``progress(done, total, marker)`` is called per source.
    """
    started = time.perf_counter()
    config = config or BuildConfig()
    engine = engine or EngineConfig()
    out = Path(out)
    if config.captioner and not config.caption_prompt:
        config = replace(config, caption_prompt=load_captioner(config.captioner).prompt)
    base, sources = discover(input_path, root=root, video_column=video_column)
    inputs = {"input": str(input_path), "root": str(base), "video_column": video_column}
    check_or_write_run_config(out, config, inputs, force)
    finished = {p.stem for p in done_dir(out).glob("*.json")} if done_dir(out).exists() else set()
    pending = [s for s in sources if s.source_id not in finished]
    skipped = len(sources) - len(pending)
    todo = pending if limit is None else pending[:limit]
    log.info("%d sources: %d already done, %d to process (%s engine, %d workers)", len(sources), skipped,
             len(todo), engine.engine, engine.workers)
    if engine.engine == "local":
        results = _run_local(todo, config, out, engine.workers)
    elif engine.engine == "ray":
        results = _run_ray(todo, config, out, engine.workers, engine.ray_address)
    else:
        raise InputError(None, f"unknown engine {engine.engine!r}", "use local or ray")
    for count, marker in enumerate(results, 1):
        if progress is not None:
            progress(skipped + count, len(sources), marker)
    stats: dict = {}
    if limit is None or len(todo) == len(pending):
        stats = consolidate(out, config, [s.source_id for s in sources])
    return BuildResult(out=out, stats=stats, processed=len(todo), skipped=skipped,
                       seconds=time.perf_counter() - started)
