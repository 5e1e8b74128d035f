"""``warp`` generation speed at 512 px on this machine, with ``static`` measured side by side.

Target (issue 6): report warp's frames per second at 512 px on 2 cores. One 512x512 portrait (the
astronaut sample) driven by 125 frames (5 s at 25 fps) of the pexels sample. Figures, each the best of
``--repeat`` runs:

- driving analysis: MediaPipe landmarks on the driving clip (done once per clip, then cached);
- warp render: the piecewise-affine warp alone (``mesh.warp_region``), frames in memory;
- warp generate: ``WarpAdapter.generate`` end to end with the driving analysis cached (portrait analysis,
  motion transfer, warping, H.264 encoding), which is what a benchmark run costs per item after the
  first method has analysed the clip;
- static generate: the portrait encoded 125 times (the encoder's share, for the ratio).

Run: ``python benchmarks/generate.py`` (uses the sample media from the asset cache).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from baselines.job import Job
from baselines.mesh import warp_region
from baselines.static import StaticAdapter
from baselines.warp import (
    WarpAdapter,
    anchor_frame,
    driving_motion,
    face_mesh,
    to_pixels,
    transfer,
)
from exprbench.assets import asset_path
from exprbench.faces import analyze_image, analyze_video
from exprbench.video import load_image, read_resampled, save_image, write_video

FPS, FRAMES = 25.0, 125


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        portrait = load_image(asset_path("sample_astronaut"))
        save_image(tmp / "portrait.png", portrait)
        clip = read_resampled(asset_path("sample_pexels"), FPS, max_frames=FRAMES)
        write_video(tmp / "driving.mp4", clip, FPS)
        face = analyze_image(portrait, identity=False).boxes[0, 0].tolist()

        def job(name: str) -> Job:
            work = tmp / name
            work.mkdir(exist_ok=True)
            return Job(item_id=name, portrait=tmp / "portrait.png", faces=[face], fps=FPS, frames=FRAMES,
                       width=512, height=512, work_dir=work, driving=[tmp / "driving.mp4"])

        analysis = best(lambda: analyze_video(tmp / "driving.mp4", num_faces=1, identity_every=0, fps=FPS,
                                              max_frames=FRAMES, cache=False), 1)
        analyze_video(tmp / "driving.mp4", num_faces=1, identity_every=0, fps=FPS, max_frames=FRAMES)  # warm cache

        drv = analyze_video(tmp / "driving.mp4", num_faces=1, identity_every=0, fps=FPS, max_frames=FRAMES)
        found = analyze_image(portrait, identity=False)
        source = to_pixels(found.landmarks[0, 0], 512, 512)
        landmarks = to_pixels(drv.landmarks[:, 0], drv.width, drv.height)
        anchor = anchor_frame(drv.blendshapes[:, 0], found.blendshapes[0, 0])
        motion, linear, shift, _ = driving_motion(landmarks, anchor)
        targets, head_linear, head_shift = transfer(source, landmarks[anchor], motion, linear, shift)
        mesh, full = face_mesh(source, targets, head_linear, head_shift, 512, 512)

        def render() -> None:
            for t in range(FRAMES):
                frame = portrait.copy()
                warp_region(frame, frame, mesh, full[t])

        render_s = best(render, args.repeat)
        warp_s = best(lambda: WarpAdapter().generate(job("warp")), args.repeat)
        static_s = best(lambda: StaticAdapter().generate(job("static")), args.repeat)
    print(f"machine: {os.cpu_count()} cores; 512x512 portrait, {FRAMES} driving frames at {FPS:g} fps "
          f"({mesh.triangles.shape[0]} triangles)")
    print(f"driving analysis (MediaPipe, once per clip): {FRAMES / analysis:7.1f} frames/s")
    print(f"warp render only:                            {FRAMES / render_s:7.1f} frames/s")
    print(f"warp generate (analysis cached, encoded):    {FRAMES / warp_s:7.1f} frames/s")
    print(f"static generate (encode only):               {FRAMES / static_s:7.1f} frames/s")
    print(f"ratio warp generate / static generate time:  {warp_s / static_s:7.2f}x")
    print(f"warp generate incl. driving analysis:        {FRAMES / (warp_s + analysis):7.1f} frames/s")


if __name__ == "__main__":
    main()
