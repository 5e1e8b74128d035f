"""A damaged ``run_config.json`` in an output folder stops the next build with exit status 2 and one line
naming the file and the field, never a traceback, and leaves every file of the folder as it was.

Property test: one field of a real run_config.json is deleted, given the wrong type, put out of range or
set to NaN, or the whole file is replaced by garbage bytes; plus the reported cases as regression tests.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from json_fields import set_field

from multiexpr.build import build
from multiexpr.cli import cli
from multiexpr.config import LIMITS, MASK_RULES, X264_PRESETS
from multiexpr.run_config import PACKAGES

OPTIONAL = {("inputs", "video_column"), *(("packages", name) for name in PACKAGES)}  # string or null
ANY_JSON = [None, True, False, 0, 7, -3, 1.5, 1e300, "x", "", [], [1, "a"], {}, {"a": 1}]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """(input folder, a built output folder, its valid run_config.json); the input is one broken video, so
    the build is quick and the folder still holds parts, markers, shards and a card to lose."""
    base = tmp_path_factory.mktemp("run_config")
    src = base / "in"
    src.mkdir()
    (src / "broken.mp4").write_bytes(b"not a video")
    out = base / "out"
    build(src, out)
    return src, out, json.loads((out / "run_config.json").read_text())


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def refused(src: Path, out: Path, content: bytes, *extra: str) -> str:
    """Write ``content`` as the folder's run_config.json, rebuild, and return the one error line."""
    path = out / "run_config.json"
    path.write_bytes(content)
    before = tree(out)
    result = CliRunner().invoke(cli, ["build", str(src), "--out", str(out), *extra])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("INFO ")]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), result.stderr
    assert tree(out) == before, "a refused build changed the output folder"
    return lines[0]


def _fields(node: object, path: tuple = ()) -> list[tuple]:
    """Every field of a JSON document, objects included."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _fields(value, (*path, key))
    return found


def _valid_type(path: tuple, original: object, value: object) -> bool:
    """Whether ``value`` has a type the reader accepts for the field at ``path``."""
    if path in OPTIONAL:
        return value is None or isinstance(value, str)
    if isinstance(original, bool) or original is None:
        return type(value) is type(original)
    if isinstance(original, float):  # JSON has one number type: an integer is a valid float parameter
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return type(value) is type(original)


def _out_of_range(path: tuple, original: object) -> st.SearchStrategy | None:
    """Values of the right type the reader must refuse, or None where the field has no range."""
    name = path[-1]
    if path[0] == "config" and name in LIMITS:
        test = LIMITS[name][0]
        if name == "out_preset":
            return st.text(max_size=8).filter(lambda v: v not in X264_PRESETS)
        if name == "mask_rule":
            return st.text(max_size=8).filter(lambda v: v not in MASK_RULES)
        if isinstance(original, int):
            return st.integers(-10**9, 10**9).filter(lambda v: not test(v))
        return st.floats(allow_nan=False).filter(lambda v: not (math.isfinite(v) and test(v)))
    if name in ("config_hash", "sha256"):
        length = 16 if name == "config_hash" else 64
        return st.text(max_size=70).filter(lambda v: not re.fullmatch(f"[0-9a-f]{{{length}}}", v))
    if path in OPTIONAL or not isinstance(original, str) or path[0] == "config":
        return None
    return st.just("")  # pipeline_version, inputs.input, packages.python, assets.*.version: non-empty


def _get(data: dict, path: tuple) -> object:
    for key in path:
        data = data[key]
    return data


def _delete(data: dict, path: tuple) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


GARBAGE = st.one_of(
    st.binary(max_size=64),  # never a whole run configuration: at best JSON of another shape
    st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=8)).map(lambda t: ("insert", *t)),
    st.integers(0, 10**6).map(lambda n: ("truncate", n)),
)
EXAMPLES = 60  # per kind of damage


@pytest.mark.parametrize("kind", ["delete", "wrong type", "out of range", "nan", "garbage bytes"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_damaged_field_is_one_line_and_loses_nothing(folder: tuple[Path, Path, dict], kind: str,
                                                         data: st.DataObject) -> None:
    src, out, valid = folder
    text = json.dumps(valid, indent=2, sort_keys=True) + "\n"
    if kind == "garbage bytes":
        garbage = data.draw(GARBAGE)
        raw = text.encode()
        if isinstance(garbage, bytes):
            content = garbage
        elif garbage[0] == "truncate":  # a strict prefix of the object is never JSON
            content = raw[:garbage[1] % len(text.rstrip())]
        else:  # bytes that are never UTF-8 text, inserted anywhere
            at = garbage[1] % (len(raw) + 1)
            content = raw[:at] + b"\xff" + garbage[2] + raw[at:]
        refused(src, out, content)
        return
    paths = _fields(valid)
    if kind == "out of range":
        paths = [p for p in paths if _out_of_range(p, _get(valid, p)) is not None]
    path = data.draw(st.sampled_from(sorted(paths, key=str)))
    original = _get(valid, path)
    mutated = json.loads(json.dumps(valid))
    if kind == "delete":
        _delete(mutated, path)
    elif kind == "nan":
        set_field(mutated, path, math.nan)
    elif kind == "wrong type":
        set_field(mutated, path, data.draw(st.sampled_from(
            [v for v in ANY_JSON if not _valid_type(path, original, v)])))
    else:
        set_field(mutated, path, data.draw(_out_of_range(path, original)))
    line = refused(src, out, json.dumps(mutated, allow_nan=True).encode())
    assert f"field {'.'.join(path)} " in line, line


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d["config"].update(min_faces="x"), "field config.min_faces is unusable: build parameter min_faces='x'"),
    (lambda d: d.pop("config_hash"), "field config_hash is missing"),
    (lambda d: d["config"].pop("max_iou"), "field config.max_iou is missing"),
    (lambda d: d["config"].update(max_iou=2), "max_iou=2.0 is out of range"),
    (lambda d: d["config"].update(min_sharpness=math.nan), "min_sharpness=nan is not a finite number"),
    (lambda d: d["config"].update(out_crf=math.inf), "field config.out_crf is unusable"),
    (lambda d: d.update(config_hash=math.nan), "field config_hash must be 16 lowercase hexadecimal digits"),
    (lambda d: d["config"].update(max_faces=1), "field config is unusable: build parameter max_faces=1 is below"),
    (lambda d: d["config"].update(min_faces=3), "field config_hash be744043c3364b4d does not match"),
    (lambda d: d.update(pipeline_version="multiexpr-build-v1"), "the file was edited"),
    (lambda d: d["assets"]["face_landmarker"].update(sha256="0" * 63), "field assets.face_landmarker.sha256"),
    (lambda d: d["packages"].update(numpy=2), "field packages.numpy must be a string or null"),
    (lambda d: d["inputs"].update(extra=1), "field inputs.extra is not a field this toolkit writes"),
])
def test_the_reported_cases_are_refused(folder: tuple[Path, Path, dict], change, says: str) -> None:  # noqa: ANN001
    src, out, valid = folder
    mutated = json.loads(json.dumps(valid))
    change(mutated)
    line = refused(src, out, json.dumps(mutated).encode())
    assert says in line and "--force" in line, line


@pytest.mark.parametrize(("content", "says"), [
    (b'{"config": ', "is not valid JSON"),
    (b"\xff\xfe\x00garbage", "is not UTF-8 text"),
    (b"", "is not valid JSON"),
    (b"[1, 2]", "the top level must be a JSON object"),
    (b"[" * 100000, "is nested too deeply"),
])
def test_an_unreadable_file_is_refused(folder: tuple[Path, Path, dict], content: bytes, says: str) -> None:
    src, out, _ = folder
    assert says in refused(src, out, content)


def test_force_rebuilds_a_damaged_folder_and_a_valid_file_is_accepted(folder: tuple[Path, Path, dict]) -> None:
    src, out, valid = folder
    (out / "run_config.json").write_bytes(b"\x00 damaged")
    result = CliRunner().invoke(cli, ["build", str(src), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run_config.json").read_text())["config_hash"] == valid["config_hash"]
    result = CliRunner().invoke(cli, ["build", str(src), "--out", str(out)])
    assert result.exit_code == 0 and "(1 already done)" in result.output, result.output


def test_another_configuration_names_the_file_and_the_changed_fields(folder: tuple[Path, Path, dict]) -> None:
    src, out, valid = folder
    (out / "run_config.json").write_text(json.dumps(valid))
    result = CliRunner().invoke(cli, ["build", str(src), "--out", str(out), "--param", "min_faces=3"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert "run_config.json records config hash" in line and "changed: min_faces)" in line, line


@pytest.mark.parametrize(("content", "says"), [
    (b"[1]", "must hold a JSON object of build parameters"),
    (b'{"config": "ab"}', "must hold a JSON object of build parameters"),
    (b"\xff", "is not valid JSON"),
    (b'{"config": {"min_faces": NaN}}', "min_faces=nan is not of type int"),
])
def test_a_damaged_parameter_file_is_one_line(tmp_path: Path, content: bytes, says: str) -> None:
    """``--config`` also takes a run_config.json: its damage is refused the same way."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "broken.mp4").write_bytes(b"not a video")
    config = tmp_path / "run_config.json"
    config.write_bytes(content)
    result = CliRunner().invoke(cli, ["build", str(src), "--out", str(tmp_path / "out"), "--config", str(config)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("INFO ")]
    assert len(lines) == 1 and lines[0].startswith(f"error: {config}: ") and says in lines[0], result.stderr
    assert not (tmp_path / "out").exists()
