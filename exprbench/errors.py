"""User-facing errors.

Every error a user can cause or fix (bad media, a missing asset, a wrong layout) is an
``ExprBenchError`` whose message is one line naming the file and what to do. The CLI prints that line
and exits non-zero; the traceback appears only with ``-v``. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

from pathlib import Path

INTERRUPTED_EXIT = 130  # 128 + SIGINT, as shells report a Ctrl-C


class ExprBenchError(Exception):
    """Base class: a one-line, actionable message for the user."""

    exit_code = 2


class InputError(ExprBenchError):
    """A user-supplied file or argument cannot be used (missing, corrupt, wrong format, ...)."""

    def __init__(self, path: str | Path | None, problem: str, hint: str = "") -> None:
        self.path = None if path is None else Path(path)
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{problem}" + (f" ({hint})" if hint else ""))


class AssetError(ExprBenchError):
    """An asset is missing, failed verification, or could not be fetched."""

    exit_code = 3


class ChecksumError(AssetError):
    """A file's sha256 does not match the registry: it is refused and never used."""
