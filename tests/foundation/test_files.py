"""``exprbench.files``: the one atomic writer and the one file hasher, and that nothing else writes or hashes.

A reader (or a rerun after ``kill -9``) must see the old file or the whole new one; two writers of one
target must never write into each other's temp file; the renamed file gets the usual permissions.
"""

from __future__ import annotations

import ast
import hashlib
import multiprocessing
import os
from pathlib import Path

import pytest

from exprbench.files import atomic_path, atomic_write, is_temp_name, sha256_file

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("exprbench", "multiexpr", "baselines", "fantasy_model")


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "scores.json"
    atomic_write(target, "old\n")
    atomic_write(target, b"new bytes")
    assert target.read_bytes() == b"new bytes"
    assert [p.name for p in target.parent.iterdir()] == ["scores.json"]


def test_a_failing_body_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"complete")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert target.read_bytes() == b"complete"
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_temp_keeps_the_suffix_and_is_recognised(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "train-00000.parquet") as tmp:
        assert tmp.suffix == ".parquet" and tmp.parent == tmp_path
        assert is_temp_name(tmp.name)
        tmp.write_bytes(b"x")
    assert not is_temp_name("train-00000.parquet") and not is_temp_name(".exprbench-output.json")


def test_permissions_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "card.md", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: a cluster group can read the dataset


def _writer(args: tuple[str, int]) -> None:
    target, k = args
    for _ in range(40):
        atomic_write(target, bytes([k]) * 200_000)


def test_concurrent_writers_of_one_target_never_mix(tmp_path: Path) -> None:
    target = tmp_path / "marker.json"
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_writer, [(str(target), 1), (str(target), 2)])
    data = target.read_bytes()
    assert len(data) == 200_000 and len(set(data)) == 1  # one writer's whole file, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["marker.json"]


def test_sha256_file_streams_and_limits(tmp_path: Path) -> None:
    path = tmp_path / "v.bin"
    data = os.urandom(3 * (1 << 20) + 17)
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, limit=1 << 20) == hashlib.sha256(data[: 1 << 20]).hexdigest()
    assert sha256_file(path, limit=5) == hashlib.sha256(data[:5]).hexdigest()


def _calls(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                names.append(f"{func.value.id}.{func.attr}")
    return names


# the one rename that is a move, not a write: a finished pip download from its staging folder
_ALLOWED = {("exprbench/assets/store.py", "os.replace")}


def test_one_writer_and_one_hasher_remain() -> None:
    """No module but ``exprbench/files.py`` renames temp files into place or hashes a file by hand."""
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel == "exprbench/files.py":
                continue
            for call in _calls(ast.parse(path.read_text())):
                if call in ("os.replace", "os.rename", "tempfile.mkstemp") and (rel, call) not in _ALLOWED:
                    offenders.append(f"{rel}: {call}")
            source = path.read_text()
            if "hashlib.sha256()" in source:  # an incremental hasher is a file hasher written again
                offenders.append(f"{rel}: hashlib.sha256() fed by hand")
    assert not offenders, offenders
