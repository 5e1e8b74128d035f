"""Every path of a build's output folder, named in one place.

``OUT/`` holds the dataset at its top (shards under ``data/``, clips under ``clips/``, ``rejects.parquet``,
``stats.json``, ``run_config.json``, the ``README.md`` card) and the build's own state under ``.work/``:
per-source parts and completion markers (resume state) and the composed sample corpus. The stages, the
per-source pipeline, consolidation and resume all take their paths from here, as datatrove's executor
owns its logging folder, so no module assembles a path by hand and renaming one happens once.

The names are part of the dataset's contract: rows store ``clip_name`` as their ``video``, markers list
clips by it, and the output folder's manifest (``exprbench.outdir``) records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WORK = ".work"  # build state: never part of the published dataset
DATA = "data"
CLIPS = "clips"
REJECTS = "rejects.parquet"
STATS = "stats.json"
RUN_CONFIG = "run_config.json"
CARD = "README.md"


def clip_name(clip_id: str) -> str:
    """A clip's path relative to the output folder, as rows, markers and the manifest record it."""
    return f"{CLIPS}/{clip_id}.mp4"


def shard_name(index: int, count: int) -> str:
    """A shard's file name in ``data/`` (the ``train-*`` split ``datasets`` discovers)."""
    return f"train-{index:05d}-of-{count:05d}.parquet"


@dataclass(frozen=True)
class Layout:
    """The absolute paths of one output folder ``root``."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / WORK

    @property
    def parts(self) -> Path:
        """Per-source results: ``<source_id>.clips.parquet`` and ``<source_id>.rejects.parquet``."""
        return self.work / "parts"

    @property
    def done(self) -> Path:
        """Per-source completion markers ``<source_id>.json``; a source without one is redone."""
        return self.work / "done"

    @property
    def sample_sources(self) -> Path:
        """Where ``--sample`` composes its input corpus."""
        return self.work / "sample_sources"

    @property
    def clips(self) -> Path:
        return self.root / CLIPS

    @property
    def data(self) -> Path:
        return self.root / DATA

    def part(self, source_id: str, kind: str) -> Path:
        """The ``kind`` part (``clips`` or ``rejects``) of one source."""
        return self.parts / f"{source_id}.{kind}.parquet"

    def marker(self, source_id: str) -> Path:
        return self.done / f"{source_id}.json"

    def committed(self) -> list[str]:
        """The source ids that have a completion marker, sorted. A killed writer's temp file in ``done/``
        (hidden, ``exprbench.files``) is not one: source ids never start with a dot."""
        if not self.done.is_dir():
            return []
        return sorted(p.stem for p in self.done.glob("*.json") if not p.name.startswith("."))

    def clip(self, clip_id: str) -> Path:
        return self.root / clip_name(clip_id)

    def file(self, name: str) -> Path:
        """A top-level dataset file: ``REJECTS``, ``STATS``, ``RUN_CONFIG`` or ``CARD``."""
        return self.root / name
