"""Throughput of `multiexpr build`, measured side by side in one run.

Prints source frames processed per second per core for
  1. the filter stages (probe, shot split, length, faces, face filters) on a 640x360 source
     (``sample_pexels``: one face, so it stops at the face-count filter) and on the 1280x360 two-face sample
     (every filter runs), as a multiple of real time;
  2. the whole build of the embedded sample (cut and annotate included), one local worker;
  3. Ray with 2 workers vs local with 1 worker on the same corpus, as a ratio of wall times.
Targets (issue 5): filter stages >= 10x real time per core on 640x360; 2 workers >= 1.6x one.
The machine's other load is not controlled: run it on an idle machine for figures you quote.

    python benchmarks/build.py [--skip-ray]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from exprbench.assets import asset_path
from multiexpr.build import build
from multiexpr.config import BuildConfig, EngineConfig
from multiexpr.sample import compose_sample
from multiexpr.sources import Source
from multiexpr.stages import (ExpressivenessFilter, FaceCountFilter, FaceSizeFilter, FaceStage, LengthFilter,
                              OverlapFilter, ProbeStage, SharpnessFilter, ShotSplitStage, SourceTask)


def filter_stages(path: Path, config: BuildConfig, face: FaceStage) -> tuple[int, float, float, float]:
    """(source frames, wall s, CPU s of this process, source fps) through probe .. expressiveness."""
    start, cpu = time.perf_counter(), time.process_time()
    task = SourceTask(source=Source(name=path.name, path=str(path)))
    assert ProbeStage(config).process(task) is None
    for clip in ShotSplitStage(config).process(task):
        for stage in (LengthFilter(config), face, FaceCountFilter(config), FaceSizeFilter(config),
                      OverlapFilter(config), SharpnessFilter(config), ExpressivenessFilter(config)):
            if stage.process(clip) is not None:
                break
    return len(task.timestamps), time.perf_counter() - start, time.process_time() - cpu, task.info.fps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    config = BuildConfig()
    face = FaceStage(config)
    face.setup()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = compose_sample(tmp / "sources")
        filter_stages(sources / "single_face.mp4", config, face)  # warm-up: model load, caches
        print("1. filter stages (1 process)")
        for label, path in (("640x360 sample_pexels (1 face)", asset_path("sample_pexels")),
                            ("1280x360 duo_side_by_side (2 faces)", sources / "duo_side_by_side.mp4")):
            frames, seconds, cpu, fps = filter_stages(path, config, face)
            print(f"   {label}: {frames} frames in {seconds:.2f} s wall, {cpu:.2f} CPU s: "
                  f"{frames / seconds:.0f} frames/s wall = {frames / seconds / fps:.1f}x real time; "
                  f"{frames / cpu:.0f} frames per CPU-second = {frames / cpu / fps:.1f}x real time per core")

        def whole(engine: EngineConfig, name: str) -> tuple[float, int, float]:
            out, cpu = tmp / name, time.process_time()
            result = build(sources, out, config, engine)
            shutil.rmtree(out)
            return result.seconds, result.stats["source_frames"], time.process_time() - cpu

        local_s, frames, cpu = whole(EngineConfig("local", 1), "local1")
        print(f"2. whole sample build, local 1 worker (in process): {frames} source frames in {local_s:.1f} s wall = "
              f"{frames / local_s:.0f} frames/s; {cpu:.1f} CPU s = {frames / cpu:.0f} frames per CPU-second")
        if not args.skip_ray:
            ray_s = whole(EngineConfig("ray", 2), "ray2")[0]
            print(f"3. Ray 2 workers: {ray_s:.1f} s vs local 1 worker {local_s:.1f} s: speed-up {local_s / ray_s:.2f}x "
                  f"(includes Ray start-up)")
            local2_s = whole(EngineConfig("local", 2), "local2")[0]
            print(f"   local 2 workers: {local2_s:.1f} s: speed-up {local_s / local2_s:.2f}x")


if __name__ == "__main__":
    main()
