"""Property test: any single-field corruption of an eval folder is refused in one line, never a traceback.

Each case takes a valid eval output folder (written to the v2 data contract), replaces one field of
summary.json or one cell of per_item.csv with a value drawn from a hostile set (text, NaN, infinities,
negative, huge, fractional counts, booleans, lists, objects, null), and builds a
leaderboard from it, as ``exprbench leaderboard`` does. The outcome must be either a clean load (the value was legal there) or
an ``InputError`` naming the file; any other exception (in loading or in building the board) is a failure.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from evalfolders import Face, anchors_of, write_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_fields import leaves, set_field

from exprbench.errors import InputError
from exprbench.leaderboard import build_leaderboard
from exprbench.leaderboard.runs import load_run

CASES = 100  # per target file

HOSTILE = st.one_of(
    st.text(max_size=6), st.sampled_from(["four", "", "inf", "nan", "1e999"]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**12, max_value=10**12),
    st.sampled_from([50.0, -1, 1.5, True, False, None, [], [1, 2], {}, {"value": "x"}]))


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    faces = [Face("single-cross-0", 0, {"aed": 0.07, "apd": 1.8, "mae": 8.0, "csim": 0.99, "motion": 0.0}),
             Face("single-cross-1", 0, {"aed": 0.06, "apd": 1.2, "mae": 6.0, "csim": 0.98, "motion": 0.5})]
    folder = write_run(root / "run", "warp", {("single", "cross"): faces}, anchors=anchors_of(faces))
    load_run(folder)  # the unmutated folder loads
    return folder


def _load(folder, named):
    try:
        build_leaderboard([folder], folder.parent / "board", paper_table=None, plots=False)
    except InputError as exc:
        message = str(exc)
        assert "\n" not in message and named in message, message
        return "refused"
    return "loaded"


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_corrupt_summary_field_is_one_line(valid, tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("case") / "run"
    shutil.copytree(valid, folder)
    summary = json.loads((folder / "summary.json").read_text())
    path = data.draw(st.sampled_from(sorted(leaves(summary), key=str)))
    value = data.draw(HOSTILE)
    set_field(summary, path, value)
    (folder / "summary.json").write_text(json.dumps(summary, allow_nan=True))
    _load(folder, "summary.json")


@settings(max_examples=CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_corrupt_per_item_cell_is_one_line(valid, tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("case") / "run"
    shutil.copytree(valid, folder)
    frame = pd.read_csv(folder / "per_item.csv", dtype=str, keep_default_na=False)
    column = data.draw(st.sampled_from(list(frame.columns)))
    row = data.draw(st.integers(0, len(frame) - 1))
    value = data.draw(HOSTILE)
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = "" if value is None else (json.dumps(value) if isinstance(value, list | dict) else str(value))
    frame.to_csv(folder / "per_item.csv", index=False)
    _load(folder, "per_item.csv")


@pytest.mark.parametrize(("field", "value", "says"), [
    (("splits", "single", "cross", "items"), "four", "splits.single.cross.items must be a non-negative integer"),
    (("splits", "single", "cross", "metrics"), [1, 2], "splits.single.cross.metrics must be an object"),
    (("splits", "single", "cross", "items"), 2.0, "must be a non-negative integer"),
    (("splits", "single", "cross", "coverage"), 1.5, "must be a number in [0, 1]"),
])
def test_the_reported_cases_are_refused_by_field(valid, tmp_path, field, value, says):
    shutil.copytree(valid, tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    set_field(summary, field, value)
    (tmp_path / "run" / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(InputError, match="summary.json") as info:
        load_run(tmp_path / "run")
    assert says in str(info.value)


