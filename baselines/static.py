"""``static``: the portrait, unchanged, for every frame.

Why it is on the leaderboard: it is the floor for every expression and motion metric (nothing moves)
and the ceiling for identity and image quality (nothing is lost), so any method's numbers can be read
against it. It animates any number of faces, trivially.
"""

from __future__ import annotations

from typing import Any

from baselines.job import Job, MethodOutput
from exprbench.video import VideoWriter, load_image


class StaticAdapter:
    name = "static"
    version = "static-1"
    native_multi_face = True
    max_native_faces = None
    needs_face_crop = False
    config_keys: frozenset[str] = frozenset()  # the methods-config keys it reads (none)

    def generate(self, job: Job) -> MethodOutput:
        portrait = load_image(job.portrait)
        path = job.work_dir / "static.mp4"
        with VideoWriter(path, job.fps) as writer:
            for _ in range(job.frames):
                writer.write(portrait)
        return MethodOutput(path)

    def config(self) -> dict[str, Any]:
        return {}
