"""Peak memory of face analysis and eval does not grow with video length (issue 12, bounded memory).

Prints, side by side, the peak RSS (MiB) of each command on a 4K (3840x2160) clip of 250 frames and
on the same clip cut to 25 frames, each in a fresh ``python -m exprbench`` process, and their ratio
(target: near 1; holding the frames whole makes it about 10):

- ``faces``: ``exprbench faces`` (face analysis);
- ``score``: ``exprbench score`` (one pair through eval's code path: faces, paired and set metrics);
- ``score -set``: the same without FID/FVD (``score_pair(metrics=...)``). The set metrics read both
  videos whole (FVD windows span chunks), so the gap between these two rows is their share. Where
  no set metric's weights are installed the row would repeat ``score``, so it is skipped (and said).

The clip is real media: the Pexels face video, upscaled with the protocol's bicubic filter and written
at CRF 12 to keep detail, looped to length. The children run the same ``exprbench`` as this script
(e.g. ``PYTHONPATH=CHECKOUT``), so one set of clips (``--clips DIR`` keeps and reuses them) can measure
two checkouts.

Usage: python benchmarks/memory.py [--long 250] [--short 25] [--size 3840x2160] [--clips DIR] [--only faces]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

import exprbench
from exprbench.assets import asset_path
from exprbench.scoring.instances import set_availability
from exprbench.scoring.options import EvalOptions
from exprbench.video import VideoWriter, probe, read_video

ROOT = Path(exprbench.__file__).resolve().parents[1]
NO_SET_METRICS = ("import sys\nfrom exprbench.metrics import all_metrics\nfrom exprbench.score import score_pair\n"
                  "names = tuple(m.name for m in all_metrics() if m.kind != 'set')\n"
                  "score_pair(sys.argv[1], sys.argv[2], metrics=names)\n")


def _clip(path: Path, frames: int, size: tuple[int, int], source: np.ndarray) -> Path:
    """The looped, upscaled clip (reused when ``path`` already holds it)."""
    if path.exists() and probe(path).n_frames == frames:
        return path
    with VideoWriter(path, 25.0, crf=12) as writer:
        for i in range(frames):
            writer.write(cv2.resize(source[i % len(source)], size, interpolation=cv2.INTER_CUBIC)[None])
    return path


def _peak_mib(argv: list[str], log: Path) -> float:
    """Peak RSS of one fresh child process (``wait4`` reports that child's own maximum), run in the
    folder of ``log`` with this script's ``exprbench`` first on its path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with open(log, "w") as err:
        child = subprocess.Popen([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=err, cwd=log.parent,
                                 env=env)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:  # negative: killed by that signal (-9: out of memory, most likely)
        raise SystemExit(f"{' '.join(argv)} failed (exit {child.returncode}):\n{log.read_text()[-2000:]}")
    return usage.ru_maxrss / 1024


def _commands(path: Path) -> dict[str, list[str]]:
    return {
        "faces": ["-m", "exprbench", "-q", "faces", str(path), "--no-cache", "--identity-every", "0"],
        "score": ["-m", "exprbench", "-q", "score", str(path), "--reference", str(path)],
        "score -set": ["-c", NO_SET_METRICS, str(path), str(path)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", type=int, default=250)
    parser.add_argument("--short", type=int, default=25)
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--clips", type=Path, help="keep the clips here and reuse them (default: a temporary folder)")
    parser.add_argument("--only", action="append", choices=list(_commands(Path("clip"))),
                        help="measure only this command (repeatable; default: all)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.clips or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        source = read_video(asset_path("sample_pexels"), list(range(50)))
        clips = {n: _clip(folder / f"clip_{size[0]}x{size[1]}_{n}.mp4", n, size, source)
                 for n in (args.short, args.long)}
        print(f"{size[0]}x{size[1]} clips of {args.short} and {args.long} frames (real Pexels frames, upscaled); "
              f"exprbench from {ROOT}")
        print(f"{'command':11s} {f'{args.short} frames':>12s} {f'{args.long} frames':>12s} {'ratio':>6s}")
        available, unavailable = set_availability(EvalOptions())
        names = args.only or list(_commands(clips[args.short]))
        if unavailable:
            print(f"not installed, so not measured: {', '.join(unavailable)}")
        if not available and "score -set" in names:
            names.remove("score -set")
            print("score -set skipped: with no set metric installed it is the score row again")
        for name in names:
            peaks = {n: _peak_mib(_commands(path)[name], Path(tmp) / "stderr.txt") for n, path in clips.items()}
            print(f"{name:11s} {peaks[args.short]:8.0f} MiB {peaks[args.long]:8.0f} MiB "
                  f"{peaks[args.long] / peaks[args.short]:6.2f}", flush=True)


if __name__ == "__main__":
    main()
