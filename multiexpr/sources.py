"""Where the videos come from: a folder, or a CSV/JSONL manifest with a video column.

Each source gets a stable identity: ``source_id`` is the sha256 of the path as written relative to the
input root (names are what users grep for), and ``content_sha256`` (computed by the probe stage) hashes the
bytes, so clip ids change when a file's content changes and never depend on processing order or machine.
Both modes resolve every entry inside the root the same way (``_inside``): an entry that escapes it (``..``,
an absolute path elsewhere, a symlink pointing out: ``path_escapes_root``), is not a regular file (a folder
named ``x.mp4``: ``not_a_file``) or cannot be resolved (a symlink loop or a dangling link: ``unresolvable``)
becomes a reject with that reason instead of being read or silently skipped. Folder mode never follows
symlinked folders (each is a ``symlinked_folder`` reject) and skips toolkit output folders (those holding
``exprbench.outdir.MARKER``, e.g. a dataset built inside its own source folder), so a rerun never ingests
its own clips. Hidden entries (names starting with ``.``: temp and partial files) are not sources.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from exprbench.errors import InputError
from exprbench.files import sha256_file
from exprbench.outdir import MARKER

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv")
VIDEO_COLUMNS = ("video", "video_path", "path", "file", "filename")


@dataclass(frozen=True)
class Source:
    """One input video. ``problem`` is set when the entry itself is unusable (e.g. escapes its root)."""

    name: str  # path relative to the root, as recorded in the dataset
    path: str  # absolute path to read
    problem: str = ""  # "reason_code: detail" when the entry cannot be used; becomes a probe reject

    @property
    def source_id(self) -> str:
        return hashlib.sha256(self.name.encode()).hexdigest()[:16]


def _inside(root: Path, name: str) -> tuple[str, str]:
    """(absolute path, problem) for an entry: it must resolve inside ``root`` to a regular file."""
    candidate = Path(name)
    full = candidate if candidate.is_absolute() else root / candidate
    escapes = f"path_escapes_root: {name} resolves outside the input root"
    try:
        full.resolve().relative_to(root.resolve())
    except ValueError:
        return str(full), escapes  # checked first: a missing file outside the root is still an escape
    except (OSError, RuntimeError):
        pass  # a symlink loop: reported below
    try:
        resolved = full.resolve(strict=True)
    except FileNotFoundError:
        if full.is_symlink():
            return str(full), f"unresolvable: {name} is a dangling symlink"
        return str(full), ""  # missing: the probe reports it as unreadable (file not found)
    except (OSError, RuntimeError):  # ELOOP / "Symlink loop"
        return str(full), f"unresolvable: {name} is a symlink loop"
    try:
        resolved.relative_to(root.resolve())
    except ValueError:
        return str(full), escapes
    if not resolved.is_file():
        return str(resolved), f"not_a_file: {name} is not a regular file"
    return str(resolved), ""


def _folder_entries(base: Path, exclude: Path | None) -> list[Source]:
    """Every video-named entry under ``base`` (not following symlinked folders), each resolved by ``_inside``."""
    sources = []
    skip = exclude.resolve() if exclude is not None else None
    for folder, dirs, files in os.walk(base, followlinks=False):
        here = Path(folder)
        kept = []
        for d in sorted(dirs):
            path = here / d
            rel = str(path.relative_to(base))
            if d.startswith("."):
                continue
            if path.is_symlink():
                if d.lower().endswith(VIDEO_EXTENSIONS):
                    sources.append(Source(rel, str(path), _inside(base, rel)[1] or f"not_a_file: {rel} is a folder"))
                else:
                    sources.append(Source(rel, str(path), f"symlinked_folder: {rel} is a symlink to a folder, not "
                                                          "followed (list its files in a manifest instead)"))
                continue
            if (skip is not None and path.resolve() == skip) or (path / MARKER).exists():
                log.info("%s: an exprbench output folder; not a source", path)
                continue
            if d.lower().endswith(VIDEO_EXTENSIONS):
                sources.append(Source(rel, str(path), f"not_a_file: {rel} is a folder"))
            kept.append(d)
        dirs[:] = kept
        for name in files:
            if name.startswith(".") or not name.lower().endswith(VIDEO_EXTENSIONS):
                continue
            rel = str((here / name).relative_to(base))
            full, problem = _inside(base, rel)
            sources.append(Source(name=rel, path=full, problem=problem))
    return sorted(sources, key=lambda s: s.name)


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


def discover(input_path: str | Path, root: str | Path | None = None, video_column: str | None = None,
             exclude: str | Path | None = None) -> tuple[Path, list[Source]]:
    """(root, sources sorted by name). A folder is searched recursively for video files (``exclude``, the
    build's own output folder, and other toolkit outputs are not searched); a manifest's relative paths
    are taken against ``root`` (default: the manifest's folder). Duplicate names are kept once."""
    input_path = Path(input_path)
    if not input_path.exists():
        raise InputError(input_path, "does not exist", "pass a folder of videos or a CSV/JSONL manifest")
    if input_path.is_dir():
        base = input_path.resolve()
        return base, _folder_entries(base, Path(exclude) if exclude is not None else None)
    base = Path(root).resolve() if root else input_path.resolve().parent
    sources = {}
    for name in _manifest_entries(input_path, video_column):
        full, problem = _inside(base, name)
        sources.setdefault(name, Source(name=name, path=full, problem=problem))
    return base, [sources[n] for n in sorted(sources)]


def content_sha256(path: str | Path) -> str:
    """sha256 of the file's bytes (``exprbench.files.sha256_file``)."""
    return sha256_file(path)
