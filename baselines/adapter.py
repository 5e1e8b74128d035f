"""The adapter interface every method implements (the registry of names is ``registry.py``).

An adapter only has to produce *some* video for a job; the harness (``harness.py``) normalises fps,
frame count and size and records what it changed, so an adapter stays a thin description of how its
method is called. ``native_multi_face`` says whether the method animates several faces with their own
driving videos in one pass; if not, the harness runs it once per face on crops and composites
(``multiface.py``). ``needs_face_crop`` marks methods that resize the whole input to a square instead of
finding the face themselves (X-Portrait, Follow-Your-Emoji): they always get a face-centred crop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from baselines.job import Job, MethodOutput


@runtime_checkable
class Adapter(Protocol):
    name: str
    version: str  # bump whenever a change alters the generated videos
    native_multi_face: bool
    max_native_faces: int | None  # None: any number; else the wrapper handles items with more faces
    needs_face_crop: bool

    def generate(self, job: Job) -> MethodOutput:
        """Write a video into ``job.work_dir`` and describe it."""
        ...

    def config(self) -> dict[str, Any]:
        """Everything that changes the output (recorded in every result's sidecar)."""
        ...


AdapterFactory = Callable[[dict[str, Any]], Adapter]
"""``factory(method_config) -> Adapter``: how a name becomes an adapter, given its methods-config table."""
