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
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exprbench.errors import InputError

CONFIG_NAME = "methods.toml"
DEFAULT_TIMEOUT_S = 7200.0
_KNOWN_KEYS = {"kind", "python", "repo", "checkpoints", "extra_args", "timeout", "env", "script", "native_multi_face",
               "wan_dir", "offload", "fp8"}


def default_config_path() -> Path:
    home = os.environ.get("EXPRBENCH_HOME") or str(Path.home() / ".cache" / "exprbench")
    return Path(home) / CONFIG_NAME


def load_methods_config(path: str | Path | None = None) -> tuple[Path, dict[str, dict[str, Any]]]:
    """(the file used, {method: its table}); a missing default file is an empty config."""
    explicit = path is not None
    path = Path(path) if explicit else default_config_path()
    if not path.is_file():
        if explicit:
            raise InputError(path, "methods config not found", "create it; see baselines/README.md")
        return path, {}
    try:
        data = json.loads(path.read_text()) if path.suffix == ".json" else tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from None
    for name, table in data.items():
        if not isinstance(table, dict):
            raise InputError(path, f"{name} must be a table ([{name}]) of settings")
        unknown = set(table) - _KNOWN_KEYS
        if unknown:
            raise InputError(path, f"[{name}] has unknown key(s) {', '.join(sorted(unknown))}",
                             f"allowed: {', '.join(sorted(_KNOWN_KEYS))}")
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


def _where(table: dict[str, Any]) -> Path | None:
    return table.get("__file__")


def settings_from_table(name: str, table: dict[str, Any], default_checkpoints: str | None,
                        needs_repo: bool = True) -> MethodSettings:
    """Validate ``table`` (a config section): every path that must exist does, else one clear error."""
    where = _where(table) or default_config_path()

    def missing(key: str, what: str) -> InputError:
        return InputError(where, f"[{name}] {key} is not set", f"set {name}.{key} to {what}")

    if "python" not in table:
        raise missing("python", "the python executable of the method's own environment")
    python = Path(str(table["python"])).expanduser()
    if not python.is_file() or not os.access(python, os.X_OK):
        raise InputError(where, f"[{name}] python = {python} is not an executable file",
                         f"set {name}.python to the interpreter of the environment the method was installed in")
    repo = Path(str(table.get("repo", ""))).expanduser()
    if needs_repo:
        if "repo" not in table:
            raise missing("repo", "the method's git checkout")
        if not repo.is_dir():
            raise InputError(where, f"[{name}] repo = {repo} is not a directory",
                             f"set {name}.repo to the method's git checkout")
    if "checkpoints" in table:
        checkpoints = Path(str(table["checkpoints"])).expanduser()
    elif default_checkpoints is not None:
        checkpoints = repo / default_checkpoints
    else:
        checkpoints = repo
    if not checkpoints.is_dir():
        raise InputError(where, f"[{name}] checkpoints = {checkpoints} is not a directory",
                         f"download the weights there or set {name}.checkpoints (see baselines/README.md)")
    extra = table.get("extra_args", [])
    if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
        raise InputError(where, f"[{name}] extra_args must be a list of strings")
    env = table.get("env", {})
    if not isinstance(env, dict):
        raise InputError(where, f"[{name}] env must be a table of strings")
    try:
        timeout = float(table.get("timeout", DEFAULT_TIMEOUT_S))
    except (TypeError, ValueError):
        raise InputError(where, f"[{name}] timeout must be a number of seconds") from None
    return MethodSettings(name=name, config_file=where, python=python, repo=repo, checkpoints=checkpoints,
                          extra_args=list(extra), timeout=timeout, env={k: str(v) for k, v in env.items()},
                          script=table.get("script"))


def require_files(settings: MethodSettings, relative: tuple[str, ...]) -> None:
    """Fail naming the first expected checkpoint file that is missing under ``settings.checkpoints``."""
    for rel in relative:
        if not (settings.checkpoints / rel).exists():
            raise InputError(settings.checkpoints / rel, f"checkpoint of {settings.name} is missing",
                             f"download it (baselines/README.md) or set {settings.name}.checkpoints "
                             f"in {settings.config_file}")
