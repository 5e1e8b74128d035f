"""Property test: any single-field corruption of a real benchmark manifest loads or is refused in one
line naming the manifest, never a traceback; plus the reported cases as regression tests."""

from __future__ import annotations

import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_fields import leaves, set_field

from exprbench.benchmark import load_benchmark
from exprbench.errors import InputError

HOSTILE = st.one_of(
    st.text(max_size=6), st.sampled_from(["../../etc/passwd", "/abs.mp4", "", "nan"]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**12, max_value=10**12),
    st.sampled_from([50.0, 0, -1, 1.5, 1e300, True, None, [], [1, 2], [0, 0, 1e308, 1e308], {}]))


@pytest.fixture(scope="module")
def bench_copy(mini, tmp_path_factory):
    root = tmp_path_factory.mktemp("manifest") / "bench"
    shutil.copytree(mini.root, root)
    return root, json.loads((root / "manifest.json").read_text())


def _mutated(data, path, value):
    data = json.loads(json.dumps(data))
    set_field(data, path, value)
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_corrupt_manifest_field_is_one_line(bench_copy, data):
    root, valid = bench_copy
    paths = sorted(leaves(valid), key=str)
    path = data.draw(st.sampled_from(paths))
    (root / "manifest.json").write_text(json.dumps(_mutated(valid, path, data.draw(HOSTILE)), allow_nan=True))
    try:
        bench = load_benchmark(root)
    except InputError as exc:
        assert "\n" not in str(exc) and str(root) in str(exc), str(exc)
        return
    for item in bench.select():
        assert item.frames >= 1 and item.rate > 0 and item.n_faces >= 1


@pytest.mark.parametrize(("field", "value", "says"), [
    (("items", 0, "frames"), 50.0, "items/0/frames must be a whole number of frames, got 50.0"),
    (("frames",), 16.0, "frames must be a whole number of frames"),
    (("items", 0, "faces", 0), [0, 0, 1e12, 1e12], "is not a box on its"),
    (("items", 0, "faces", 0), [10, 10, 5, 20], "is not a box on its"),
])
def test_the_reported_cases_are_refused(bench_copy, field, value, says):
    root, valid = bench_copy
    (root / "manifest.json").write_text(json.dumps(_mutated(valid, field, value)))
    with pytest.raises(InputError, match="manifest.json") as info:
        load_benchmark(root)
    assert says in str(info.value)


def test_the_unmutated_manifest_loads(bench_copy):
    root, valid = bench_copy
    (root / "manifest.json").write_text(json.dumps(valid))
    assert len(load_benchmark(root).items) == len(valid["items"])
