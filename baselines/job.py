"""What a method is asked to do (``Job``) and what it hands back (``MethodOutput``).

Why a separate job object instead of passing benchmark items: methods run in other processes and other
environments (job files), on crops of the portrait (the multi-face wrapper) and on copies of the inputs
(LivePortrait writes a ``.pkl`` next to its driving video), so a job names concrete files in a private
work folder, never paths inside a shared, possibly read-only benchmark.

Faces are always in left-to-right order (FantasyPortrait's convention, ``fantasyportrait-model.md``
§6): face i of the portrait is driven by ``driving[i]``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from exprbench.benchmark.manifest import MANIFEST_NAME, Benchmark, Item
from exprbench.errors import InputError
from exprbench.video import load_image

JOB_PROTOCOL = "exprbench-job/1"


@dataclass
class Job:
    """One generation request: animate ``portrait`` so that face i follows ``driving[i]``.

    ``driving`` holds one video per face; for items whose driving input is one multi-person video
    (``driving_multi``), ``driving`` is filled by splitting it per face (``split.py``) only when an
    adapter asks for per-face clips (``per_face_driving``); native multi-face adapters may read
    ``driving_multi`` directly. ``fps`` and ``frames`` are the contract the harness enforces.
    """

    item_id: str
    portrait: Path
    faces: list[list[float]]
    fps: float
    frames: int
    width: int
    height: int
    work_dir: Path
    log_dir: Path | None = None  # where external methods' stdout/stderr logs go (kept after success)
    driving: list[Path] | None = None
    driving_multi: Path | None = None
    seed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n_faces(self) -> int:
        return len(self.faces)

    def per_face_driving(self) -> list[Path]:
        """One driving video per face, splitting ``driving_multi`` by tracking on first use."""
        if self.driving is None:
            from baselines.split import split_driving_multi

            self.driving = split_driving_multi(self.driving_multi, self.faces, (self.width, self.height),
                                               self.fps, self.frames, self.work_dir / "driving_split")
            self.notes.append("driving_multi split into per-face clips by tracking (left-to-right order)")
        return self.driving

    def to_json(self) -> dict:
        """The job file an external method reads (paths absolute)."""
        return {"protocol": JOB_PROTOCOL, "item_id": self.item_id, "portrait": str(self.portrait),
                "faces": self.faces, "fps": self.fps, "frames": self.frames, "width": self.width,
                "height": self.height, "driving": [str(p) for p in self.per_face_driving()],
                "seed": self.seed}

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")
        return path


@dataclass
class MethodOutput:
    """The raw video a method produced, and what the harness must know to normalise it.

    ``frame_fps``: the rate the frames really represent when the file's own metadata is wrong
    (Follow-Your-Emoji writes 1:1 frames at a hard-coded 7 fps). ``content_box``: the region
    (x0, y0, x1, y1, fractions of the output size) that shows the portrait, when a method padded it.
    """

    path: Path
    frame_fps: float | None = None
    content_box: tuple[float, float, float, float] | None = None
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # method-specific facts for the sidecar (JSON-serialisable)


def build_job(bench: Benchmark, item: Item, work_dir: Path, log_dir: Path | None = None, seed: int = 0) -> Job:
    """A job for ``item`` whose inputs are copies inside ``work_dir`` (methods may write next to them)."""
    inputs = work_dir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)

    def copy(rel: str, name: str) -> Path:
        src = bench.path(rel)
        dst = inputs / f"{name}{src.suffix.lower()}"
        shutil.copyfile(src, dst)
        return dst

    portrait = copy(item.portrait, "portrait")
    height, width = load_image(portrait).shape[:2]
    driving = [copy(rel, f"driving_{i}") for i, rel in enumerate(item.driving)] if item.driving else None
    multi = copy(item.driving_multi, "driving_multi") if item.driving_multi else None
    faces = [list(map(float, box)) for box in item.faces]
    centres = [(b[0] + b[2]) / 2 for b in faces]
    if centres != sorted(centres):
        raise InputError(bench.root / MANIFEST_NAME, f"item {item.id} lists its faces out of left-to-right order",
                         "faces[i] is driven by driving[i]; sort both by box x-centre")
    return Job(item_id=item.id, portrait=portrait, faces=faces, fps=item.fps, frames=item.frames, width=width,
               height=height, work_dir=work_dir, log_dir=log_dir, driving=driving, driving_multi=multi, seed=seed)
