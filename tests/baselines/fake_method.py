"""A fake external method speaking the job-file protocol: ``python fake_method.py JOB.json MODE``.

MODE ``ok``: the portrait with a brightness ramp, at the job's fps and frame count. ``wrong``: the same
at 12 fps, with too few frames, at half size (the harness must normalise it). ``sleep``: starts a child
that sleeps too (its pid goes to ``child.pid`` in the output folder) and never finishes (timeouts must
kill the whole process group). ``crash``: prints to stderr and exits 3. ``error``: reports
``status: error`` in its result file. ``silent``: exits 0 without a result file.
"""

import json
import subprocess
import sys
import time
from pathlib import Path


def frames_for(portrait, count: int):
    import numpy as np

    ramp = np.linspace(0.6, 1.0, count)[:, None, None, None]
    return np.clip(portrait[None].astype(np.float32) * ramp, 0, 255).astype(np.uint8)


def main(job_path: str, mode: str) -> int:
    job = json.loads(Path(job_path).read_text())
    output, result = Path(job["output"]), Path(job["result"])
    print(f"fake method: mode {mode}, item {job['item_id']}, {len(job['driving'])} driving video(s)", flush=True)
    if mode == "sleep":  # before the slow imports, so a short timeout still finds the child started
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        (output.parent / "child.pid").write_text(str(child.pid))
        time.sleep(600)
        return 0
    if mode == "crash":
        print("Traceback (most recent call last):\nRuntimeError: CUDA out of memory (fake)", file=sys.stderr)
        return 3
    from exprbench.video import load_image, write_video

    portrait = load_image(job["portrait"])
    if mode == "silent":
        return 0
    if mode == "error":
        result.write_text(json.dumps({"status": "error", "message": "face not found (fake)"}))
        return 0
    if mode == "wrong":
        half = portrait[::2, ::2]
        write_video(output, frames_for(half, max(1, int(job["frames"] * 12 / job["fps"]) - 3)), 12)
    else:
        write_video(output, frames_for(portrait, job["frames"]), job["fps"])
    result.write_text(json.dumps({"status": "ok", "output": str(output), "notes": [f"fake {mode}"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "ok"))
