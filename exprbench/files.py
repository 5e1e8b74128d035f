"""The toolkit's one way to write a file and its one way to hash one.

Every file the toolkit writes (scores, markers, manifests, shards, caches, videos) goes through
:func:`atomic_write` or :func:`atomic_path`, so a reader (or a rerun after ``kill -9``) sees either the
old file or the whole new one, never half of one. The temp name is unique per call (pid plus a random token, in the
target's folder, so the rename never crosses a filesystem): two writers of the same target never
write into each other's temp file, and the last rename wins whole. Data is fsynced before the rename
and the folder after it, so a power cut cannot leave a renamed but empty file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

_BLOCK = 1 << 20
# ``.<stem>.<pid>.<8 hex>.tmp<suffix>``: what ``_new_temp`` names; a leftover of a killed writer
_TEMP_NAME = re.compile(r"^\..*\.\d+\.[0-9a-f]{8}\.tmp(\.[^.]*)?$")


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temp file of :func:`atomic_path` (a writer killed mid-write leaves one)."""
    return bool(_TEMP_NAME.match(name))


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself (the folder entry); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _new_temp(path: Path) -> Path:
    """Create an empty, unique temp file beside ``path`` with the usual permissions (umask applies).

    ``tempfile.mkstemp`` would make it 0600, and the renamed dataset file would then be unreadable
    to the rest of a cluster group.
    """
    for _ in range(100):
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{path.suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"{path.parent}: could not create a unique temp file beside {path.name}")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a unique temp path beside ``path``; on success it is fsynced and renamed onto ``path``.

    For writers that need a path rather than bytes (pyarrow, video encoders, ``torch.save``). If the
    body raises, the temp file is removed and ``path`` is left as it was. The temp name keeps the
    target's suffix, because some writers choose their format by it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp(path)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def atomic_write(path: str | Path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` all or nothing (text is written with ``\\n`` line ends on every OS)."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(payload)
    return Path(path)


def sha256_file(path: str | Path, *, limit: int | None = None) -> str:
    """Hex sha256 of a file's bytes, streamed; ``limit`` hashes only the first ``limit`` bytes."""
    digest = hashlib.sha256()
    remaining = limit
    with open(path, "rb") as handle:
        while remaining is None or remaining > 0:
            block = handle.read(_BLOCK if remaining is None else min(_BLOCK, remaining))
            if not block:
                break
            digest.update(block)
            if remaining is not None:
                remaining -= len(block)
    return digest.hexdigest()
