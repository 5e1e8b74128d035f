"""Output folders: the toolkit writes only into folders it owns, one writer at a time, and deletes only its own files.

Every command that writes a folder (``exprbench prepare``, ``exprbench leaderboard``, ``multiexpr build``)
goes through :func:`claim`:

- **Ownership marker.** A folder the toolkit writes holds ``.exprbench-output.json``: which command wrote it
  and the list of every file (and owned sub-tree, ending in ``/``) it wrote there. A non-empty folder without
  the marker, or one written by another command, is refused with a one-line error unless ``force``; with
  ``force`` the command writes into it (files of the same names are replaced) and still never deletes a file
  it did not write.
- **Deleting.** :meth:`OutputFolder.remove_stale` and :meth:`OutputFolder.clear` delete only entries of the
  manifest, so a user's README, results or dotfiles next to the toolkit's files survive every rebuild.
- **One writer.** An exclusive lock (``filelock``) per folder; a second writer fails at once with a one-line
  error naming the holder's pid and command (``.exprbench.lock.json``), instead of two builds deleting each
  other's in-progress files.

The marker is rewritten (temp name, then ``os.replace``) after every recorded file, so a killed command
still leaves a folder whose files are all accounted for. Names starting with ``.exprbench`` are the
toolkit's bookkeeping; publish a folder without them (``UPLOAD_IGNORE``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from exprbench.errors import ExprBenchError
from exprbench.files import atomic_write

MARKER = ".exprbench-output.json"
LOCK = ".exprbench.lock"
HOLDER = ".exprbench.lock.json"
BOOKKEEPING = (MARKER, LOCK, HOLDER)
UPLOAD_IGNORE = [".exprbench*"]  # glob patterns (huggingface_hub ignore_patterns, rsync --exclude)
FORMAT = 1


class OutputFolderError(ExprBenchError):
    """``--out`` is not a folder this command may write (someone else's files, or another writer holds it)."""


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, payload: dict) -> None:
    atomic_write(path, json.dumps(payload, indent=1, sort_keys=True) + "\n")


def _inside(root: Path, rel: str) -> Path:
    """``root / rel``, refusing a manifest entry that points outside ``root`` (a hand-edited marker)."""
    path = (root / rel.rstrip("/")).resolve()
    path.relative_to(root.resolve())  # ValueError if outside
    return path


class OutputFolder:
    """A claimed output folder: record what is written, delete only what was recorded."""

    def __init__(self, path: Path, command: str, previous: set[str]) -> None:
        self.path, self.command = path, command
        self.previous = set(previous)  # what the marker listed when the folder was claimed
        self.owned = set(previous)  # what the marker lists now
        self.written: set[str] = set()  # recorded by this run

    def file(self, rel: str) -> Path:
        """Record ``rel`` (a path relative to the folder) as the toolkit's and return its absolute path."""
        self.record(rel)
        return self.path / rel

    def record(self, *rels: str) -> None:
        """Add entries to the manifest (``sub/`` = the whole sub-tree) and rewrite the marker."""
        new = {Path(r).as_posix() + ("/" if r.endswith("/") else "") for r in rels}
        self.written |= new
        if not new <= self.owned:
            self.owned |= new
            self.save()

    def owns(self, rel: str) -> bool:
        rel = Path(rel).as_posix()
        return rel in self.owned or any(o.endswith("/") and (rel + "/").startswith(o) for o in self.owned)

    def remove(self, rels: Iterable[str]) -> list[str]:
        """Delete these entries if (and only if) the manifest lists them; returns what was deleted."""
        removed = []
        for rel in sorted(set(rels)):
            if not self.owns(rel):
                continue
            try:
                path = _inside(self.path, rel)
            except (ValueError, OSError, RuntimeError):  # outside the folder, or a symlink loop: not ours to delete
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists() or path.is_symlink():
                path.unlink()
            removed.append(rel)
            self._prune(path.parent)
        self.owned -= set(removed)
        self.written -= set(removed)
        self.save()
        return removed

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty by a deletion, up to (not including) the output folder."""
        root = self.path.resolve()
        while folder.resolve() != root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    def remove_stale(self) -> list[str]:
        """Delete what an earlier run wrote and this run did not write again."""
        return self.remove(self.owned - self.written)

    def clear(self) -> list[str]:
        """Delete everything the toolkit wrote here (a rebuild from scratch); other files stay."""
        return self.remove(set(self.owned))

    def save(self) -> None:
        from exprbench import __version__

        _write_json(self.path / MARKER, {"format": FORMAT, "written_by": self.command, "toolkit_version": __version__,
                                         "files": sorted(self.owned)})


def _holder(path: Path) -> str:
    info = _read_json(path / HOLDER) or {}
    pid = info.get("pid", "unknown")
    what = f", {info['command']}" if info.get("command") else ""
    host = f" on {info['host']}" if info.get("host") and info["host"] != socket.gethostname() else ""
    return f"pid {pid}{host}{what}"


def _foreign_entries(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name not in BOOKKEEPING and not p.name.startswith(f"{MARKER}."))


def _previous(path: Path, command: str, force: bool) -> set[str]:
    """What the marker says ``command`` wrote in ``path``; raises when the folder is not ``command``'s to write."""
    marker = _read_json(path / MARKER)
    if marker is None or not isinstance(marker.get("files"), list):
        foreign = _foreign_entries(path)
        if foreign and not force:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise OutputFolderError(
                f"{path}: is not empty ({shown}) and was not written by exprbench; nothing was changed "
                "(choose a new or empty folder, or pass --force to write into it: files of the same names "
                "are replaced, no other file is deleted)")
        return set()
    if marker.get("written_by") != command:
        if not force:
            raise OutputFolderError(
                f"{path}: was written by `{marker.get('written_by')}`, not `{command}`; nothing was changed "
                "(choose another folder, or pass --force)")
        return set()
    return {str(f) for f in marker["files"]}


@contextmanager
def claim(path: str | Path, command: str, *, force: bool = False) -> Iterator[OutputFolder]:
    """Lock ``path`` (created if missing) for ``command`` and check the toolkit may write there.

    Raises :class:`OutputFolderError` (nothing written, nothing deleted) when another process holds the
    folder, or when it is non-empty and was not written by ``command`` and ``force`` is false. A folder
    that is refused is checked before the lock file is created, so it is left exactly as it was.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{path}: exists and is not a folder (choose another output folder)")
    if path.is_dir():
        _previous(path, command, force)  # refuse before creating anything in someone else's folder
    path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path / LOCK), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise OutputFolderError(f"{path}: in use by another writer ({_holder(path)}); wait for it to finish "
                                "or choose another output folder") from None
    try:
        previous = _previous(path, command, force)  # again under the lock: the folder may have changed
        _write_json(path / HOLDER, {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                                    "argv": sys.argv, "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        folder = OutputFolder(path, command, previous)
        folder.save()
        yield folder
    finally:
        (path / HOLDER).unlink(missing_ok=True)
        lock.release()
