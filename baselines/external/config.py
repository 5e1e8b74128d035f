"""The user's methods config: where each external method's environment, checkout and weights live.

File: ``--config PATH``, else ``$EXPRBENCH_HOME/methods.toml`` (TOML; ``.json`` with the same structure
also works). One table per method, named like the method::

    [liveportrait]
    python = "/opt/envs/liveportrait/bin/python"   # the method environment's interpreter
    repo = "/opt/src/LivePortrait"                  # its checkout (the method runs with cwd = repo)
    checkpoints = "/opt/src/LivePortrait/pretrained_weights"   # optional; default per method
    extra_args = ["--no_flag_stitching"]            # optional; appended to the command line
    timeout = 3600                                  # optional; seconds per job (default 7200)
    env = { CUDA_VISIBLE_DEVICES = "0" }            # optional; extra environment variables

Nothing is installed or downloaded by the toolkit (the methods' licences forbid vendoring several of
them); ``baselines/README.md`` says how to set each one up. Every problem is reported as one line
naming the file and the key to set.

What is an error and what is not. Errors (exit 2, nothing runs): a file that is not UTF-8, TOML or
JSON; a top level or method entry that is not a table; a method name that is not a plain folder name
(it becomes ``RESULTS/<method>/``); an unknown key (a misspelt optional key would silently run with its
default); a value of the wrong type or out of range, in *any* table (the file is malformed either way);
a relative path to a file or folder (methods run with cwd = their checkout, where a relative path means
another file than the one checked here; only SkyReels-A1's ``script`` names a script inside its checkout);
and, for the method being run, a required key that is missing or a path that
does not exist. Not checked: paths of the other methods (the file may describe another machine's
installs). Warning only: a valid key that the method being run does not read (``baselines.registry``):
it cannot change the output, but its writer probably expected it to.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exprbench.errors import InputError

CONFIG_NAME = "methods.toml"
DEFAULT_TIMEOUT_S = 7200.0
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week for one item is a typo, not a setting
METHOD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # a plain folder name: RESULTS/<method>/


def default_config_path() -> Path:
    home = os.environ.get("EXPRBENCH_HOME") or str(Path.home() / ".cache" / "exprbench")
    return Path(home) / CONFIG_NAME


# ---- what each key must hold: a check returning the problem, or None ---------------------------------
def _text(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    return "must not contain a NUL character" if "\0" in value else None


def path_problem(value: Any) -> str | None:
    """What is wrong with ``value`` as a path in the config, or None: it must be absolute (after ``~``),
    because the methods run in their own checkout, where a relative path would name another file."""
    if not isinstance(value, str) or not value or "\0" in value:
        return "must be a path (a non-empty string without NUL)"
    try:
        absolute = Path(value).expanduser().is_absolute()
    except RuntimeError:  # ~user of no such user
        return "starts with the home folder of a user that does not exist"
    if not absolute:
        return "must be an absolute path or start with ~ (a method runs in its checkout, not here)"
    return None


def _arguments(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(a, str) and "\0" not in a for a in value):
        return "must be an array of strings (command-line arguments, no NUL)"
    return None


def _number(value: Any, low: float, high: float, low_open: bool) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and (low < value if low_open else low <= value) and value <= high)


def _seconds(value: Any) -> str | None:
    ok = _number(value, 0.0, MAX_TIMEOUT_S, low_open=True)
    return None if ok else f"must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}"


def _fraction(value: Any) -> str | None:
    return None if _number(value, 0.0, 1.0, low_open=False) else "must be a number from 0 to 1"


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _environment(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a table of environment variables (NAME = \"value\")"
    for name, text in value.items():
        if not name or "=" in name or "\0" in name:
            return f"has an invalid variable name {json.dumps(name)}"
        if not isinstance(text, str) or "\0" in text:
            return f"variable {name} must be a string without NUL (quote numbers: {name} = \"0\")"
    return None


def _jobfile(value: Any) -> str | None:
    return None if value == "jobfile" else 'must be "jobfile" (the one kind a config can declare)'


FIELDS: dict[str, Callable[[Any], str | None]] = {
    "kind": _jobfile, "python": path_problem, "repo": path_problem, "checkpoints": path_problem,
    "wan_dir": path_problem, "script": _text,  # a job-file script's path, or a script name in a checkout
    "extra_args": _arguments, "timeout": _seconds, "env": _environment, "native_multi_face": _flag,
    "fp8": _flag, "offload": _text, "strength": _fraction,
}


def _shown(value: Any) -> str:
    """The value as one short line, with its TOML type: ``an integer -1``, ``a string "x"``."""
    kinds = {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array",
             dict: "a table", type(None): "null"}
    text = json.dumps(value, default=str, ensure_ascii=True)
    return f"{kinds.get(type(value), 'a ' + type(value).__name__)} {text[:60]}{'...' if len(text) > 60 else ''}"


def field_error(where: Path | None, name: str, key: str, problem: str, value: Any) -> InputError:
    return InputError(where, f"{name}.{key} {problem}, got {_shown(value)}")


def check_table(name: Any, table: Any, where: Path | None) -> None:
    """Refuse, in one line naming ``where`` and ``name.key``, a method table that is not well-formed."""
    if not isinstance(name, str) or not METHOD_NAME.fullmatch(name):
        raise InputError(where, f"method name {json.dumps(name)} is not a plain folder name",
                         "use letters, digits, '.', '_' and '-': results go to RESULTS/<method>/")
    if not isinstance(table, dict):
        raise InputError(where, f"{name} must be a table ([{name}]) of settings, got {_shown(table)}")
    for key, value in table.items():
        if key == "__file__":  # added by load_methods_config
            continue
        if key not in FIELDS:
            raise InputError(where, f"{name}.{key} is not a setting", f"allowed: {', '.join(sorted(FIELDS))}")
        problem = FIELDS[key](value)
        if problem is not None:
            raise field_error(where, name, key, problem, value)


# ---- reading the file ------------------------------------------------------------------------------
_HEADER = re.compile(r"\s*\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")


def _statements(text: str) -> list[tuple[int, str]]:
    """(line index, ``table.key`` or "" for a table header) of each statement a TOML text starts; lines are
    split at newlines only, as TOML does (``splitlines`` would also split at form feeds and the like)."""
    found, table = [], ""
    for index, line in enumerate(text.split("\n")):
        if header := _HEADER.match(line):
            table = header.group(1)
            found.append((index, ""))
        elif key := _KEY.match(line):
            found.append((index, f"{table}.{key.group(1)}" if table else key.group(1)))
    return found


def _in_field(field: str) -> str:
    return f" in {field}" if field else ""


def _field_of_line(text: str, index: int) -> str:
    """The field whose statement holds line ``index`` (the last one started at or before it)."""
    return _in_field(next((field for start, field in reversed(_statements(text)) if start <= index), ""))


def _first_broken_field(text: str) -> str:
    """The first statement the TOML parser cannot read, found by parsing ever longer prefixes: an unclosed
    array or string is reported by the parser at a later line, but belongs to the statement that opened it."""
    lines = text.split("\n")
    starts = _statements(text)
    for (_, name), (end, _) in zip(starts, [*starts[1:], (len(lines), "")]):
        try:
            tomllib.loads("\n".join(lines[:end]))
        except tomllib.TOMLDecodeError:
            return _in_field(name)
    return ""


def _parse(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n")
        raise InputError(path, f"is not UTF-8 text: byte {exc.start} (line {line + 1}) is {raw[exc.start]:#04x}"
                               f"{_field_of_line(raw.decode('utf-8', 'replace'), line)}") from None
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"is not valid JSON: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).replace("(at end of document)", f"(at the end, line {text.count(chr(10)) + 1})")
        raise InputError(path, f"is not valid TOML: {message}{_first_broken_field(text)}") from None


def load_methods_config(path: str | Path | None = None) -> tuple[Path, dict[str, dict[str, Any]]]:
    """(the file used, {method: its table}), every table checked (``check_table``); a missing default
    file is an empty config."""
    explicit = path is not None
    path = Path(path) if explicit else default_config_path()
    if not path.is_file():
        if explicit:
            raise InputError(path, "methods config not found", "create it; see baselines/README.md")
        return path, {}
    data = _parse(path)
    if not isinstance(data, dict):
        raise InputError(path, f"must hold one table per method, got {_shown(data)}")
    for name, table in data.items():
        check_table(name, table, path)
        table["__file__"] = path  # so that later errors name the file the setting came from
    return path, data


@dataclass
class MethodSettings:
    """One method's validated settings (paths resolved, defaults filled)."""

    name: str
    config_file: Path | None
    python: Path
    repo: Path
    checkpoints: Path
    extra_args: list[str] = field(default_factory=list)
    timeout: float = DEFAULT_TIMEOUT_S
    env: dict[str, str] = field(default_factory=dict)
    script: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"python": str(self.python), "repo": str(self.repo), "checkpoints": str(self.checkpoints),
                "extra_args": self.extra_args, "timeout": self.timeout, "env": self.env, "script": self.script}


def settings_from_table(name: str, table: dict[str, Any], default_checkpoints: str | None) -> MethodSettings:
    """The settings of a checked table (``check_table``): every path that must exist does, else one clear
    error naming the key to set."""
    where = table.get("__file__") or default_config_path()

    def missing(key: str, what: str) -> InputError:
        return InputError(where, f"[{name}] {key} is not set", f"set {name}.{key} to {what}")

    if "python" not in table:
        raise missing("python", "the python executable of the method's own environment")
    python = Path(table["python"]).expanduser()
    if not python.is_file() or not os.access(python, os.X_OK):
        raise InputError(where, f"[{name}] python = {python} is not an executable file",
                         f"set {name}.python to the interpreter of the environment the method was installed in")
    if "repo" not in table:
        raise missing("repo", "the method's git checkout")
    repo = Path(table["repo"]).expanduser()
    if not repo.is_dir():
        raise InputError(where, f"[{name}] repo = {repo} is not a directory",
                         f"set {name}.repo to the method's git checkout")
    if "checkpoints" in table:
        checkpoints = Path(table["checkpoints"]).expanduser()
    else:
        checkpoints = repo / default_checkpoints if default_checkpoints is not None else repo
    if not checkpoints.is_dir():
        raise InputError(where, f"[{name}] checkpoints = {checkpoints} is not a directory",
                         f"download the weights there or set {name}.checkpoints (see baselines/README.md)")
    return MethodSettings(name=name, config_file=where, python=python, repo=repo, checkpoints=checkpoints,
                          extra_args=list(table.get("extra_args", [])),
                          timeout=float(table.get("timeout", DEFAULT_TIMEOUT_S)), env=dict(table.get("env", {})),
                          script=table.get("script"))


def require_files(settings: MethodSettings, relative: tuple[str, ...]) -> None:
    """Fail naming the first expected checkpoint file that is missing under ``settings.checkpoints``."""
    for rel in relative:
        if not (settings.checkpoints / rel).exists():
            raise InputError(settings.checkpoints / rel, f"checkpoint of {settings.name} is missing",
                             f"download it (baselines/README.md) or set {settings.name}.checkpoints "
                             f"in {settings.config_file}")
