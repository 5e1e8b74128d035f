"""Throughput of `multiexpr build`, measured side by side in one run.

Prints
  1. source frames per CPU-second (one process) through the filter stages (probe, shot split with the
     face-count pre-pass, length, faces, face filters) on the 640x360 ``sample_pexels`` (one face: stopped
     by the pre-pass, the common case in a web corpus) and on the 1280x360 two-face sample (every filter
     and the full face analysis run), as a multiple of real time per core, plus where the time went;
  2. the whole build of the embedded sample (cut and annotate included), one worker in this process;
  3. 2 workers vs 1, local processes and Ray, on the sample corpus repeated ``--copies`` times (copies are
     processed in full; consolidation then drops them as duplicates), as ratios of wall times including
     each engine's start-up; for local runs also the CPU seconds of all processes, so a ratio held down by
     other load on the machine (fewer free cores) shows as fewer busy cores rather than more work.
Targets (issue 5): filter stages >= 10x real time per core on 640x360; 2 workers >= 1.6x one.
The machine's other load is not controlled: the load average is printed before and after.

    python benchmarks/build.py [--copies 3] [--skip-ray]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from exprbench.assets import asset_path
from multiexpr.build import build
from multiexpr.config import BuildConfig, EngineConfig
from multiexpr.sample import compose_sample
from multiexpr.sources import Source
from multiexpr.stages import default_stages
from multiexpr.stages.base import Stage
from multiexpr.tasks import SourceTask


def stages_before_cut(config: BuildConfig, out: Path) -> list[Stage]:
    """The build's stages up to the cut (probe, shot split, every filter and the face analysis), set up."""
    stages = default_stages(config, out)
    stages = stages[:[s.name for s in stages].index("cut")]
    for stage in stages:
        stage.setup()
    return stages


def filter_stages(path: Path, stages: list[Stage]) -> tuple[int, float, float, float, dict]:
    """(source frames, wall s, CPU s of this process, source fps, CPU s per stage) through ``stages``."""
    start, cpu = time.perf_counter(), time.process_time()
    spent: dict[str, float] = {}

    def timed(stage, task):
        t = time.process_time()
        result = stage.process(task)
        spent[stage.name] = spent.get(stage.name, 0.0) + time.process_time() - t
        return result

    task = SourceTask(source=Source(name=path.name, path=str(path)))
    probe, split, *filters = stages
    assert timed(probe, task) is None
    for clip in timed(split, task):
        for stage in filters:
            if timed(stage, clip) is not None:
                break
    return len(task.timestamps), time.perf_counter() - start, time.process_time() - cpu, task.info.fps, spent


def cpu_seconds() -> float:
    """CPU time of this process plus its finished child processes (the local engine's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=3, help="sample corpus repeats for the scaling runs")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    config = BuildConfig()
    print(f"start: {load()} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        stages = stages_before_cut(config, tmp / "unused")
        sources = compose_sample(tmp / "sources")
        filter_stages(sources / "duo_side_by_side.mp4", stages)  # warm-up: model load, caches
        print("1. filter stages (1 process, CPU time of all its threads)")
        for label, path in (("640x360 sample_pexels (1 face)", asset_path("sample_pexels")),
                            ("1280x360 duo_side_by_side (2 faces)", sources / "duo_side_by_side.mp4")):
            frames, seconds, cpu, fps, spent = filter_stages(path, stages)
            print(f"   {label}: {frames} frames in {seconds:.2f} s wall, {cpu:.2f} CPU s: "
                  f"{frames / cpu:.0f} frames per CPU-second = {frames / cpu / fps:.1f}x real time per core "
                  f"(wall {frames / seconds / fps:.1f}x)")
            print("      CPU s by stage: " + ", ".join(f"{k} {v:.2f}" for k, v in spent.items() if v >= 0.005))

        def whole(engine: EngineConfig, name: str, corpus: Path) -> tuple[float, int, float, dict]:
            """(wall s, source frames, CPU s of this process and its reaped local workers, stages)."""
            out, cpu = tmp / name, cpu_seconds()
            result = build(corpus, out, config, engine)
            shutil.rmtree(out)
            return result.seconds, result.stats["source_frames"], cpu_seconds() - cpu, result.stats["stages"]

        local_s, frames, cpu, stages = whole(EngineConfig("local", 1), "whole", sources)
        print(f"2. whole sample build, local 1 worker (in process): {frames} source frames in {local_s:.1f} s wall = "
              f"{frames / local_s:.0f} frames/s; {cpu:.1f} CPU s = {frames / cpu:.0f} frames per CPU-second")
        print("      wall s by stage: " + ", ".join(f"{k} {v['seconds']:.2f}" for k, v in stages.items()
                                                     if v["seconds"] >= 0.005))
        corpus = tmp / "corpus"
        for k in range(args.copies):
            shutil.copytree(sources, corpus / f"copy{k}", ignore=shutil.ignore_patterns(".*"))
        runs = [("local", 1), ("local", 2)] + ([] if args.skip_ray else [("ray", 1), ("ray", 2)])
        walls = {}
        for engine, workers in runs:
            walls[engine, workers], frames, cpu, _ = whole(EngineConfig(engine, workers), f"{engine}{workers}", corpus)
            used = f"; {cpu:.1f} CPU s = {cpu / walls[engine, workers]:.2f} cores busy" if engine == "local" else ""
            print(f"3. {engine} {workers} worker(s): {frames} source frames ({6 * args.copies} sources) in "
                  f"{walls[engine, workers]:.1f} s wall{used}  [{load()}]")
        print(f"   local 2 vs 1 workers: {walls['local', 1] / walls['local', 2]:.2f}x")
        if not args.skip_ray:
            print(f"   ray 2 vs 1 workers: {walls['ray', 1] / walls['ray', 2]:.2f}x; "
                  f"ray 2 workers vs local 1 worker: {walls['local', 1] / walls['ray', 2]:.2f}x")
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
