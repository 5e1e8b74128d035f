"""A source's completion marker (``.work/done/<source_id>.json``): written last, read back on resume.

The marker is what makes a source "done" (datatrove's completions): resume keeps a source whose marker
is valid and whose content hash still matches, consolidation sums the markers' counts into stats.json,
and a cleanup removes the clips a marker names. So a marker is checked field by field before any of
that. One that cannot be read, or whose fields have the wrong type or range (a disk error, a hand edit),
is build state gone bad: its source is treated as not done and processed again, with one warning naming
the file, never summed into the statistics or used to delete files. Clip paths must be
``clips/<name>.mp4``, so a damaged marker can never name a file outside the clips folder.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from exprbench.files import atomic_write

_CLIP = re.compile(r"^clips/[A-Za-z0-9_-]+\.mp4$")
_COUNTS = ("source_frames", "candidates", "accepted")
_SECONDS = ("source_seconds", "seconds")


def write_marker(path: Path, marker: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(marker, indent=1))


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _seconds(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and value >= 0


def _stage_problem(name: Any, entry: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return f"stage name {name!r} is not a name"
    if not isinstance(entry, dict) or set(entry) != {"in", "out", "dropped", "seconds"}:
        return f"stages.{name} must hold exactly in, out, dropped and seconds"
    if not (_count(entry["in"]) and _count(entry["out"]) and entry["out"] <= entry["in"]):
        return f"stages.{name}: in and out must be counts with out <= in"
    if not _seconds(entry["seconds"]):
        return f"stages.{name}.seconds must be a non-negative number"
    dropped = entry["dropped"]
    if not isinstance(dropped, dict) or not all(isinstance(k, str) and _count(v) for k, v in dropped.items()):
        return f"stages.{name}.dropped must map reasons to counts"
    if sum(dropped.values()) != entry["in"] - entry["out"]:
        return f"stages.{name}: the drops do not add up to in - out"
    return None


def marker_problem(marker: Any, source_id: str) -> str | None:
    """Why ``marker`` is not a valid completion marker of ``source_id`` (None when it is)."""
    if not isinstance(marker, dict):
        return "is not a JSON object"
    if marker.get("source_id") != source_id:
        return f"source_id {marker.get('source_id')!r} is not its file's {source_id!r}"
    if not isinstance(marker.get("source"), str):
        return "source must be a name"
    sha = marker.get("content_sha256")  # "" (or null): the source could not be read, so it was not hashed
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"([0-9a-f]{64})?", sha)):
        return "content_sha256 must be a sha256 hex digest, empty or null"
    for key in _COUNTS:
        if not _count(marker.get(key)):
            return f"{key} must be a non-negative integer"
    if marker["accepted"] > marker["candidates"]:
        return "accepted exceeds candidates"
    for key in _SECONDS:
        if not _seconds(marker.get(key)):
            return f"{key} must be a non-negative number"
    clips = marker.get("clips")
    if not isinstance(clips, list) or not all(isinstance(c, str) and _CLIP.match(c) for c in clips):
        return "clips must be a list of clips/<name>.mp4 paths"
    if len(clips) != marker["accepted"]:
        return f"names {len(clips)} clips for {marker['accepted']} accepted"
    stages = marker.get("stages")
    if not isinstance(stages, dict):
        return "stages must be an object"
    for name, entry in stages.items():
        problem = _stage_problem(name, entry)
        if problem:
            return problem
    return None


def read_marker(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(marker, None)`` for a valid marker, else ``(None, why)``."""
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"cannot be read ({type(exc).__name__}: {exc})"
    problem = marker_problem(marker, path.stem)
    return (None, problem) if problem else (marker, None)
