"""Property test: a valid methods.toml with one field deleted, of the wrong type, out of range, replaced by
bytes that are not UTF-8 or by text that is not TOML, or the whole file garbled, makes ``exprbench generate
--config`` exit 2 with one line on stderr naming the file and the field, never a traceback; plus the
cases that were tracebacks or silently misread before as regression tests."""

from __future__ import annotations

import json
import math
import os
import sys
import tomllib
from pathlib import Path

import pytest
from benchfix import FAKE_METHOD
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from baselines.external.config import MAX_TIMEOUT_S, load_methods_config
from baselines.external.methods import LivePortrait
from baselines.fantasyportrait import REQUIRED as FANTASY_FILES
from baselines.registry import get_adapter
from exprbench.cli.main import cli
from exprbench.errors import InputError

PATH_KEYS = ("python", "repo", "checkpoints", "script", "wan_dir")
KIND_OF = {"kind": "text", "offload": "text", "extra_args": "arguments", "timeout": "number", "strength": "number",
           "env": "environment", "native_multi_face": "flag", "fp8": "flag", **dict.fromkeys(PATH_KEYS, "text")}
# deleting these makes the method unusable; every other key is optional, so deleting it is no error
REQUIRED = {("fake", "kind"), ("fake", "python"), ("fake", "script"), ("liveportrait", "python"),
            ("liveportrait", "repo"), ("fantasyportrait", "checkpoints"), ("fantasyportrait", "wan_dir")}

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)  # any string TOML can hold
INTS = st.integers(min_value=-2**63, max_value=2**63 - 1)
SMALL_TABLE = st.dictionaries(st.from_regex(r"[A-Z]{1,4}", fullmatch=True), TEXT, max_size=2)
WRONG_TYPE = {
    "text": st.one_of(INTS, st.floats(), st.booleans(), st.lists(TEXT, max_size=2), SMALL_TABLE),
    "arguments": st.one_of(TEXT, INTS, st.booleans(), SMALL_TABLE,
                           st.lists(st.one_of(INTS, st.floats(), st.booleans()), min_size=1, max_size=3)),
    "number": st.one_of(TEXT, st.booleans(), st.lists(INTS, max_size=2), SMALL_TABLE),
    "flag": st.one_of(TEXT, INTS, st.floats(), st.lists(st.booleans(), max_size=2)),
    "environment": st.one_of(TEXT, INTS, st.lists(TEXT, max_size=2),
                             st.dictionaries(st.just("VAR"), st.one_of(INTS, st.floats(), st.booleans()), min_size=1)),
}
BAD_PATHS = ["", "relative/dir", "python", "~no_such_user_here/bin/python", "/abs/with\0nul", "/nonexistent/exprbench"]
OUT_OF_RANGE = {
    "timeout": st.one_of(st.floats().filter(lambda x: not 0 < x <= MAX_TIMEOUT_S), st.integers(-2**63, 0),
                         st.integers(int(MAX_TIMEOUT_S) + 1, 2**63 - 1)),
    "strength": st.one_of(st.floats().filter(lambda x: not 0 <= x <= 1), st.integers(-2**63, -1),
                          st.integers(2, 2**63 - 1)),
    "kind": TEXT.filter(lambda s: s != "jobfile"),
    "offload": TEXT.filter(lambda s: s not in ("none", "model_cpu_offload", "group_offload", "sequential")),
    "extra_args": st.lists(TEXT, max_size=2).map(lambda args: [*args, "bad\0argument"]),
    "env": st.sampled_from([{"": "1"}, {"A=B": "1"}, {"A": "x\0y"}, {"NUL\0": "1"}]),
    **{key: st.sampled_from(BAD_PATHS) for key in PATH_KEYS},
}
NOT_UTF8 = st.sampled_from([b"\xff", b"\xfe", b"\x80", b"\xc3\x28", b"\xed\xa0\x80"])
PLACEHOLDER = "\ue000mutated\ue000"


def _is_toml(data: bytes) -> bool:
    try:
        tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return True


NOT_A_VALUE = st.one_of(
    st.sampled_from(['"unterminated', "[1, 2", "{a = }", "= 3", "1 2", "tru", "0x", "'", '"""', "[,]", "+", ""]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=10).filter(
        lambda t: not _is_toml(f"k = {t}\n".encode())))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)  # inf, -inf, 1e+300 and 1e-07 are TOML as they are
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def to_toml(config: dict) -> bytes:
    return "".join(f"[{name}]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in table.items()) + "\n"
                   for name, table in config.items()).encode()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A valid config of four methods whose files exist (a job-file script, LivePortrait, this project's
    FantasyPortrait, warp), and where to write its mutations."""
    root = tmp_path_factory.mktemp("methods")
    repo = root / "LivePortrait"
    for rel in LivePortrait.required_files:
        (repo / LivePortrait.default_checkpoints / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / LivePortrait.default_checkpoints / rel).touch()
    for rel in FANTASY_FILES:
        (root / "FantasyPortrait" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "FantasyPortrait" / rel).touch()
    (root / "Wan").mkdir()
    valid = {
        "fake": {"kind": "jobfile", "python": sys.executable, "script": str(FAKE_METHOD), "native_multi_face": False,
                 "extra_args": ["ok"], "timeout": 600, "env": {"FAKE": "1"}},
        "liveportrait": {"python": sys.executable, "repo": str(repo), "checkpoints": str(repo / "pretrained_weights"),
                         "extra_args": ["--flag"], "timeout": 3600.5, "env": {"CUDA_VISIBLE_DEVICES": "0"}},
        "fantasyportrait": {"checkpoints": str(root / "FantasyPortrait"), "wan_dir": str(root / "Wan"),
                            "offload": "model_cpu_offload", "fp8": False},
        "warp": {"strength": 0.5},
    }
    assert not os.access(FAKE_METHOD, os.X_OK)  # an existing file that is no interpreter, for python
    return root, valid


def _generate(root: Path, method: str, config: bytes):
    path = root / "methods.toml"
    path.write_bytes(config)
    run = CliRunner().invoke(cli, ["generate", "-m", method, "--bench", str(root / "no-bench"), "--out",
                                   str(root / "out"), "--config", str(path)])
    return path, run


def _assert_one_line(run, path: Path, *names: str) -> str:
    assert run.exit_code == 2 and isinstance(run.exception, SystemExit), (run.output, run.exc_info)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in run.output, run.output
    assert lines[0].startswith(f"error: {path}: ") and all(name in lines[0] for name in names), lines[0]
    return lines[0]


@st.composite
def field_mutations(draw, valid: dict):
    """(method to run, the field, the mutated file): one field of one table changed one way."""
    table, key = draw(st.sampled_from(sorted((t, k) for t in valid for k in valid[t])))
    config = json.loads(json.dumps(valid))
    how = draw(st.sampled_from(["wrong type", "not UTF-8", "not TOML",
                                *(["out of range"] if key in OUT_OF_RANGE else []),
                                *(["delete"] if (table, key) in REQUIRED else [])]))
    if how == "delete":
        del config[table][key]
        return table, f"{table}.{key}", to_toml(config)
    if how == "wrong type":
        config[table][key] = draw(WRONG_TYPE[KIND_OF[key]])
        return table, f"{table}.{key}", to_toml(config)
    if how == "out of range":
        config[table][key] = draw(OUT_OF_RANGE[key])
        if key == "python" and draw(st.booleans()):
            config[table][key] = str(FAKE_METHOD)
        return table, f"{table}.{key}", to_toml(config)
    config[table][key] = PLACEHOLDER
    literal = _toml_value(PLACEHOLDER).encode()
    if how == "not UTF-8":
        junk = draw(st.binary(max_size=12)) + draw(NOT_UTF8) + draw(st.binary(max_size=12))
        junk = junk.replace(b"\n", b"").replace(b"\r", b"")
    else:
        junk = draw(NOT_A_VALUE).encode()
    return table, f"{table}.{key}", to_toml(config).replace(literal, junk)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_one_bad_field_is_one_line_naming_the_file_and_the_field(setup, data):
    root, valid = setup
    method, field, config = data.draw(field_mutations(valid))
    path, run = _generate(root, method, config)
    _assert_one_line(run, path, field)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_garbled_file_is_one_line_naming_the_file_and_the_line(setup, data):
    root, valid = setup
    text = to_toml(valid)
    if data.draw(st.booleans()):
        config = data.draw(st.binary(min_size=1, max_size=300))
    else:
        config = text[:data.draw(st.integers(1, len(text) - 1))]
    assume(not _is_toml(config))  # a cut at a line end, or bytes that happen to be TOML: not a garbled file
    path, run = _generate(root, data.draw(st.sampled_from(sorted(valid))), config)
    _assert_one_line(run, path, "line")


def test_the_valid_config_is_accepted_for_every_method(setup, caplog):
    root, valid = setup
    path = root / "methods.toml"
    path.write_bytes(to_toml(valid))
    _, config = load_methods_config(path)
    assert {name: {k: v for k, v in table.items() if k != "__file__"} for name, table in config.items()} == valid
    for name in valid:
        get_adapter(name, config[name])
    assert not caplog.records  # every key is read by its method: no warning


@pytest.mark.parametrize(("name", "text", "says"), [
    ("top.json", "[1]", "must hold one table per method, got an array [1]"),  # was AttributeError
    ("script.toml", '[fake]\nkind = "jobfile"\npython = "/bin/sh"\nscript = 5\n',
     "fake.script must be a non-empty string"),  # was TypeError
    ("types.toml", '[fake]\ntimeout = "10"\n', 'fake.timeout must be a number of seconds'),  # was read as 10.0
    ("flag.toml", '[fake]\nnative_multi_face = "false"\n', "fake.native_multi_face must be true or false"),  # was True
    ("env.toml", '[fake]\nenv = { CUDA_VISIBLE_DEVICES = 0 }\n', 'quote numbers: CUDA_VISIBLE_DEVICES = "0"'),
    ("nul.toml", '[fake]\nextra_args = ["a\\u0000b"]\n', "fake.extra_args must be an array of strings"),
    ("name.toml", '["../up"]\nkind = "jobfile"\n', 'method name "../up" is not a plain folder name'),
    ("tabl.toml", "liveportrait = 3\n", "liveportrait must be a table"),
])
def test_the_reported_cases_are_refused(tmp_path, name, text, says):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match="^" + str(path)) as info:
        load_methods_config(path)
    assert says in str(info.value)


def test_warp_strength_is_read_from_the_file(tmp_path):  # was refused as an unknown key
    path = tmp_path / "methods.toml"
    path.write_text("[warp]\nstrength = 0.25\n")
    _, config = load_methods_config(path)
    assert get_adapter("warp", config["warp"]).strength == 0.25


def test_a_key_the_method_does_not_read_is_a_warning_naming_it(tmp_path, caplog):
    path = tmp_path / "methods.toml"
    path.write_text("[static]\ntimeout = 60\n")
    _, config = load_methods_config(path)
    get_adapter("static", config["static"])
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: static.timeout has no effect: the static method does not read it"]


def test_a_jobfile_table_cannot_replace_a_shipped_adapter(tmp_path):
    path = tmp_path / "methods.toml"
    path.write_text(f'[warp]\nkind = "jobfile"\npython = "{sys.executable}"\nscript = "{FAKE_METHOD}"\n')
    _, config = load_methods_config(path)
    with pytest.raises(InputError, match='warp.kind = "jobfile" would replace the shipped warp adapter'):
        get_adapter("warp", config["warp"])
