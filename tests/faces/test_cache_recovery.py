"""A damaged face-analysis cache entry is recomputed and overwritten, never a traceback (issue 16 item 12).

Before: garbage gave ``BadZipFile``, a zero-byte entry ``Aborted!`` and exit 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from exprbench.assets import asset_path
from exprbench.cli.main import cli
from exprbench.faces import analyze_video
from exprbench.faces import cache as face_cache

ARGS = ["faces", "--max-frames", "3", "--identity-every", "0"]


def _tracks(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("track ")]


@pytest.fixture(scope="module")
def video():
    return asset_path("sample_single_face_video")


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setattr(face_cache, "cache_dir", lambda: folder)
    return folder


def _damage(entry, how: str) -> None:
    data = entry.read_bytes()
    if how == "zero-byte":
        entry.write_bytes(b"")
    elif how == "garbage":
        entry.write_bytes(b"not a zip file at all" * 100)
    elif how == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif how == "missing arrays":
        with open(entry, "wb") as handle:
            np.savez(handle, meta=np.array("{}"))


@pytest.mark.parametrize("how", ["zero-byte", "garbage", "truncated", "missing arrays"])
def test_damaged_entry_is_recomputed_by_the_cli(cache, video, how):
    first = CliRunner().invoke(cli, [*ARGS, str(video)])
    assert first.exit_code == 0, first.output
    (entry,) = cache.glob("*.npz")
    good = entry.read_bytes()
    _damage(entry, how)
    again = CliRunner().invoke(cli, [*ARGS, str(video)])
    assert again.exit_code == 0, again.output
    assert _tracks(again.output) == _tracks(first.output) and _tracks(first.output)
    warnings = [line for line in again.stderr.splitlines() if line.startswith("WARNING exprbench.faces.cache")]
    assert len(warnings) == 1 and str(entry) in warnings[0] and "recomputing" in warnings[0], again.stderr
    assert "Traceback" not in again.output
    assert entry.read_bytes() == good, "the damaged entry was not overwritten with the recomputed one"


def test_api_returns_the_same_analysis_after_recovery(cache, video):
    fresh = analyze_video(video, max_frames=3, identity_every=0)
    (entry,) = cache.glob("*.npz")
    entry.write_bytes(b"")
    recovered = analyze_video(video, max_frames=3, identity_every=0)
    assert np.array_equal(fresh.boxes, recovered.boxes, equal_nan=True)
    assert np.array_equal(fresh.blendshapes, recovered.blendshapes, equal_nan=True)
    assert face_cache.load(entry.stem) is not None, "the recomputed analysis was stored again"
