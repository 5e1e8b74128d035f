"""Where the videos come from: a folder, or a CSV/JSONL manifest with a video column.

Each source gets a stable identity: ``source_id`` is the sha256 of the path as written relative to the
input root (names are what users grep for), and ``content_sha256`` (computed by the probe stage) hashes the
bytes, so clip ids change when a file's content changes and never depend on processing order or machine.
Manifest paths are resolved inside their root: an entry that escapes it (``..``, an absolute path elsewhere,
a symlink pointing out) becomes a reject instead of reading arbitrary files.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from exprbench.errors import InputError

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv")
VIDEO_COLUMNS = ("video", "video_path", "path", "file", "filename")


@dataclass(frozen=True)
class Source:
    """One input video. ``problem`` is set when the entry itself is unusable (e.g. escapes its root)."""

    name: str  # path relative to the root, as recorded in the dataset
    path: str  # absolute path to read
    problem: str = ""

    @property
    def source_id(self) -> str:
        return hashlib.sha256(self.name.encode()).hexdigest()[:16]


def _inside(root: Path, name: str) -> tuple[str, str]:
    """(absolute path, problem) for a manifest entry, refusing anything that resolves outside ``root``."""
    candidate = Path(name)
    full = candidate if candidate.is_absolute() else root / candidate
    resolved = full.resolve()
    try:
        resolved.relative_to(root.resolve())
    except ValueError:
        return str(full), "path_escapes_root"
    return str(resolved), ""


def _manifest_entries(path: Path, column: str | None) -> list[str]:
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            rows = list(reader)
    elif path.suffix.lower() in (".jsonl", ".ndjson"):
        rows = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        raise InputError(path, f"line {number} is not valid JSON", "one JSON object per line") from None
        fields = sorted({key for row in rows for key in row})
    else:
        raise InputError(path, "is neither a folder, a .csv nor a .jsonl manifest")
    chosen = column or next((c for c in VIDEO_COLUMNS if c in fields), None)
    if chosen is None or chosen not in fields:
        raise InputError(path, f"has no video column (looked for {column or ', '.join(VIDEO_COLUMNS)}; "
                         f"found {', '.join(fields) or 'none'})", "pass --video-column NAME")
    return [str(row[chosen]).strip() for row in rows if row.get(chosen) not in (None, "")]


def discover(input_path: str | Path, root: str | Path | None = None, video_column: str | None = None
             ) -> tuple[Path, list[Source]]:
    """(root, sources sorted by name). A folder is searched recursively for video files; a manifest's
    relative paths are taken against ``root`` (default: the manifest's folder). Duplicate names are kept
    once."""
    input_path = Path(input_path)
    if not input_path.exists():
        raise InputError(input_path, "does not exist", "pass a folder of videos or a CSV/JSONL manifest")
    if input_path.is_dir():
        base = input_path.resolve()
        names = sorted(str(p.relative_to(base)) for p in base.rglob("*")
                       if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS
                       and not any(part.startswith(".") for part in p.relative_to(base).parts))
        return base, [Source(name=n, path=str(base / n)) for n in names]
    base = Path(root).resolve() if root else input_path.resolve().parent
    sources = {}
    for name in _manifest_entries(input_path, video_column):
        full, problem = _inside(base, name)
        sources.setdefault(name, Source(name=name, path=full, problem=problem))
    return base, [sources[n] for n in sorted(sources)]


def content_sha256(path: str | Path, block: int = 1 << 20) -> str:
    """sha256 of the file's bytes (streamed)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()
