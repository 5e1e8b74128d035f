"""Peak memory of face analysis and eval does not grow with video length (issue 12, bounded memory).

Prints peak RSS (MiB) of ``exprbench faces`` and of ``exprbench score`` (the eval code path for one
pair) on a 4K (3840x2160) clip of 250 frames against the same clip cut to 25 frames, each in a fresh
process, and their ratio (target: near 1; loading whole videos would make it about 10). The clip is
real media: the Pexels face video, upscaled with the protocol's bicubic filter and written losslessly
enough (CRF 12) to keep detail, looped to length.

Usage: python benchmarks/memory.py [--long 250] [--short 25] [--size 3840x2160]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from exprbench.assets import asset_path
from exprbench.video import VideoWriter, read_video


def _clip(path: Path, frames: int, size: tuple[int, int], source: np.ndarray) -> Path:
    with VideoWriter(path, 25.0, crf=12) as writer:
        for i in range(frames):
            writer.write(cv2.resize(source[i % len(source)], size, interpolation=cv2.INTER_CUBIC)[None])
    return path


def _peak_mib(args: list[str]) -> float:
    """Peak RSS of one fresh child process running ``python -m exprbench.cli ARGS``."""
    code = ("import resource, runpy, sys; sys.argv = ['exprbench'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('exprbench.cli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code, "-q", *args], capture_output=True, text=True)
    peak = [line for line in run.stderr.splitlines() if line.startswith("PEAK ")]
    if run.returncode != 0 or not peak:
        raise SystemExit(f"exprbench {' '.join(args)} failed:\n{run.stderr[-2000:]}")
    return int(peak[-1].split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", type=int, default=250)
    parser.add_argument("--short", type=int, default=25)
    parser.add_argument("--size", default="3840x2160")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    source = read_video(asset_path("sample_pexels"), list(range(50)))
    with tempfile.TemporaryDirectory() as tmp:
        clips = {n: _clip(Path(tmp) / f"clip{n}.mp4", n, size, source) for n in (args.short, args.long)}
        print(f"{size[0]}x{size[1]} clips of {args.short} and {args.long} frames (real Pexels frames, upscaled)")
        for name, make in (("faces", lambda p: ["faces", str(p), "--no-cache", "--identity-every", "0"]),
                           ("score", lambda p: ["score", str(p), "--reference", str(p)])):
            peaks = {n: _peak_mib(make(path)) for n, path in clips.items()}
            print(f"{name:6s} peak RSS: {peaks[args.short]:8.0f} MiB ({args.short} frames)  "
                  f"{peaks[args.long]:8.0f} MiB ({args.long} frames)  ratio {peaks[args.long] / peaks[args.short]:.2f}")


if __name__ == "__main__":
    main()
