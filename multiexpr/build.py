"""``build()``: discover sources, skip the finished ones, run the rest on an engine, consolidate.

Engines run the same ``pipeline.process_source`` per source:

- ``local``: a process pool of ``workers`` processes (``spawn``: MediaPipe and decord hold threads that a
  forked child must not inherit); ``workers=1`` runs in this process.

Both engines schedule one task per source, largest files first, with every worker limited to one thread
per library (``_worker_init``), so N workers use N cores and not N times N threads.
- ``ray``: one Ray task per source (``num_cpus=1``), on a running cluster (``ray_address``) or a local
  instance started for the build. Workers write straight into the output folder, so on a cluster it must
  be on a shared filesystem, and ``multiexpr`` must be importable on every node.

Resume: a source whose completion marker exists, and whose file still has the content hash the marker
recorded, is not run again; a source whose content changed is redone, and the state and clips of a source
that changed or disappeared are removed before consolidation. At-least-once execution plus deterministic
names and a deterministic consolidation make reruns produce the same bytes.

Safety (``exprbench.outdir``): the output folder is locked for the whole build (a second build into it
fails at once, naming the first one's pid), a folder holding other files is refused unless ``force``, and
only files the build wrote are ever deleted. Local workers die with the parent (``exprbench.workers``) and
ignore Ctrl-C: the parent stops them at the first Ctrl-C, keeps every finished source and raises
:class:`BuildInterrupted` (rerun to resume).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from exprbench.errors import ExprBenchError, InputError
from exprbench.outdir import OutputFolder, claim
from exprbench.workers import init_worker, stop_workers, worker_pool
from multiexpr.captioning import load_captioner
from multiexpr.config import BuildConfig, EngineConfig
from multiexpr.layout import WORK, Layout
from multiexpr.marker import read_marker
from multiexpr.output import COMMAND, check_or_write_run_config, consolidate
from multiexpr.pipeline import process_source
from multiexpr.sources import Source, content_sha256, discover

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


class BuildInterrupted(ExprBenchError):
    """Ctrl-C: the workers were stopped; finished sources are kept and a rerun resumes."""

    exit_code = 130


def _worker_init(parent_pid: int | None = None) -> None:
    """Die with the parent, leave Ctrl-C to it, and use one core.

    One core per worker: the engine, not the libraries, provides the parallelism.

    Math libraries that size their thread pools from the core count would otherwise start one thread
    per core in every worker (N workers x N threads on N cores). The variables are also passed to the
    workers' environment at start (they only act before a library loads); torch and OpenCV are told
    directly because they may already be loaded. MediaPipe's XNNPACK runs the landmarker on the calling
    thread here, and the build's own decoding uses one thread (``multiexpr.decode``).
    """
    if parent_pid is not None:
        init_worker(parent_pid)
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


def _run_local(pending: list[Source], config: BuildConfig, out: Path, workers: int) -> Iterator[dict]:
    if workers <= 1:
        for source in pending:
            yield process_source(source, config, str(out))
        return
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update(THREAD_ENV)  # inherited by the spawned workers before they import anything
    try:
        pool = worker_pool(workers, _worker_init)
        futures = [pool.submit(process_source, s, config, str(out)) for s in by_size(pending)]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        for future in as_completed(futures):
            yield future.result()
    except BaseException:  # Ctrl-C (or the consumer closing us): stop now, not after the queue drains
        stop_workers(pool)
        raise
    pool.shutdown(wait=True)


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
        _worker_init(None)
        return process_source(source, config, str(out))

    try:
        refs = [run.remote(s) for s in by_size(pending)]
        while refs:
            ready, refs = ray.wait(refs, num_returns=1)
            yield ray.get(ready[0])
    finally:
        if started_here:
            ray.shutdown()


def _source_hash(source: Source) -> str:
    """The content hash resume compares with the marker ("" when the entry cannot be read)."""
    if source.problem:
        return ""
    try:
        return content_sha256(source.path)
    except OSError:
        return ""


def _marker(layout: Layout, source_id: str) -> dict:
    """The source's valid completion marker, or {} (a damaged one is warned about where resume reads it)."""
    marker, _ = read_marker(layout.marker(source_id))
    return marker or {}


def _forget(folder: OutputFolder, source_ids: Iterable[str], keep_clips: set[str]) -> None:
    """Remove the resume state and clips of sources that changed or disappeared (clips another kept source
    also produced, i.e. an identical file under another name, stay)."""
    layout = Layout(folder.path)
    for source_id in source_ids:
        clips = set(_marker(layout, source_id).get("clips", [])) - keep_clips
        for rel in sorted(clips):
            (layout.root / rel).unlink(missing_ok=True)
        for path in (layout.marker(source_id), layout.part(source_id, "clips"), layout.part(source_id, "rejects")):
            path.unlink(missing_ok=True)


def _resume_state(folder: OutputFolder, sources: list[Source]) -> set[str]:
    """Source ids whose committed result is still valid; the state of every other committed source is removed."""
    layout = Layout(folder.path)
    committed = set(layout.committed())
    by_id = {s.source_id: s for s in sources}
    valid = set()
    for source_id in committed & set(by_id):
        marker, problem = read_marker(layout.marker(source_id))
        if problem:
            log.warning("%s: its completion marker %s %s; processing it again", by_id[source_id].name,
                        layout.marker(source_id), problem)
        elif marker["content_sha256"] is not None and marker["content_sha256"] == _source_hash(by_id[source_id]):
            valid.add(source_id)
        else:
            log.warning("%s: changed since it was processed; processing it again", by_id[source_id].name)
    gone = committed - set(by_id)
    if gone:
        log.warning("%d processed source(s) are no longer in the input; their clips are removed", len(gone))
    keep = {c for i in valid for c in _marker(layout, i).get("clips", [])}
    _forget(folder, sorted(committed - valid), keep)
    return valid


def build(input_path: str | Path | None, out: str | Path, config: BuildConfig | None = None,
          engine: EngineConfig | None = None, *, root: str | Path | None = None, video_column: str | None = None,
          force: bool = False, limit: int | None = None, sample: bool = False, license: str = "unknown",
          progress: Callable[[int, int, dict], None] | None = None) -> BuildResult:
    """Curate ``input_path`` (a folder of videos or a CSV/JSONL manifest) into ``out``.

    ``sample`` composes the embedded sample corpus (``multiexpr.sample``) into ``out/.work`` and curates it.
    ``limit`` processes at most that many pending sources and stops without consolidating (used to
    build in slices; a later call finishes the job). ``progress(done, total, marker)`` is called per source.
    ``force`` writes into a folder holding other files, or rebuilds one built with another configuration.
    ``license`` is the dataset card's ``license`` (an SPDX-style id such as ``cc-by-4.0``; the sources'
    licence is the user's to state).
    """
    started = time.perf_counter()
    config = config or BuildConfig()
    engine = engine or EngineConfig()
    out = Path(out)
    if config.captioner and not config.caption_prompt:
        config = replace(config, caption_prompt=load_captioner(config.captioner).prompt)
    if sample == (input_path is not None):
        raise InputError(None, "give either an input or sample=True")
    if input_path is not None:
        discover(input_path, root=root, video_column=video_column, exclude=out)  # bad input fails before out is touched
    with claim(out, COMMAND, force=force) as folder:
        folder.record(f"{WORK}/")
        if sample:
            from multiexpr.sample import compose_sample

            input_path = compose_sample(Layout(out).sample_sources)
        _, sources = discover(input_path, root=root, video_column=video_column, exclude=out)
        inputs = {"input": "(embedded sample)" if sample else str(input_path), "video_column": video_column}
        check_or_write_run_config(folder, config, inputs, force)
        finished = _resume_state(folder, sources)
        pending = [s for s in sources if s.source_id not in finished]
        skipped = len(sources) - len(pending)
        todo = pending if limit is None else pending[:limit]
        log.info("%d sources: %d already done, %d to process (%s engine, %d workers)", len(sources), skipped,
                 len(todo), engine.engine, engine.workers)
        if engine.engine == "local":
            results = _run_local(todo, config, out, engine.workers)
        else:
            results = _run_ray(todo, config, out, engine.workers, engine.ray_address)
        try:
            for count, marker in enumerate(results, 1):
                if progress is not None:
                    progress(skipped + count, len(sources), marker)
        except KeyboardInterrupt:
            results.close()  # stops and reaps the workers
            # count the completion markers, not the results received: a worker may have committed a source
            # whose result had not reached us yet, and the rerun keeps it
            kept = skipped + sum(Layout(out).marker(s.source_id).is_file() for s in todo)
            raise BuildInterrupted(f"{out}: interrupted; {kept} of {len(sources)} sources are finished "
                                   "and kept (rerun the same command to resume)") from None
        stats: dict = {}
        if limit is None or len(todo) == len(pending):
            stats = consolidate(folder, config, [s.source_id for s in sources], license=license)
    return BuildResult(out=out, stats=stats, processed=len(todo), skipped=skipped,
                       seconds=time.perf_counter() - started)
