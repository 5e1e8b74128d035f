"""A damaged completion marker is build state gone bad: its source is processed again with one warning
naming the file, the dataset comes out as an uninterrupted build's, and nothing outside clips/ is ever
deleted on a marker's word (issue 12: every file the toolkit reads is checked before use)."""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import pytest
from test_build import output_digest

from multiexpr.build import build
from multiexpr.layout import Layout
from multiexpr.marker import marker_problem, read_marker

SOURCE = "duo_side_by_side.mp4"  # the source with an accepted clip: its marker names a file


def _damage(marker: dict, how: str) -> bytes:
    if how == "garbage":
        return b"\x00\xff{not json"
    m = json.loads(json.dumps(marker))
    if how == "escaping_clip":
        m["clips"] = ["../run_config.json"]
    elif how == "count_as_text":
        m["accepted"] = "1"
    elif how == "nan_seconds":
        return json.dumps({**m, "seconds": math.nan}).encode()  # Python's JSON writes NaN
    elif how == "drops_do_not_add_up":
        stage = next(iter(m["stages"]))
        m["stages"][stage]["in"] += 5
    elif how == "other_source":
        m["source_id"] = "0" * 16
    return json.dumps(m).encode()


def _source_id(out: Path, name: str) -> str:
    layout = Layout(out)
    return next(i for i in layout.committed() if read_marker(layout.marker(i))[0]["source"] == name)


@pytest.mark.parametrize("how", ["garbage", "escaping_clip", "count_as_text", "nan_seconds",
                                 "drops_do_not_add_up", "other_source"])
def test_a_damaged_marker_reprocesses_its_source(sample_sources: Path, reference_build: Path, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture, how: str) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference_build, out)
    layout = Layout(out)
    source_id = _source_id(out, SOURCE)
    path = layout.marker(source_id)
    path.write_bytes(_damage(json.loads(path.read_text()), how))
    assert read_marker(path)[0] is None
    with caplog.at_level(logging.WARNING, logger="multiexpr"):
        build(sample_sources, out)
    warned = [r.getMessage() for r in caplog.records if str(path) in r.getMessage()]
    assert len(warned) == 1 and "processing it again" in warned[0]
    assert output_digest(out) == output_digest(reference_build)
    assert read_marker(path)[1] is None  # rewritten whole
    assert (out / "run_config.json").is_file()


def test_the_markers_a_build_writes_are_valid(reference_build: Path) -> None:
    layout = Layout(reference_build)
    assert layout.committed()
    for source_id in layout.committed():
        marker, problem = read_marker(layout.marker(source_id))
        assert problem is None, (source_id, problem)
        assert marker_problem(marker, "another") is not None  # bound to its own file name
