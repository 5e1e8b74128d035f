"""``run_config.json``: what a build records about itself, and the check a recorded one passes before the
next build of the same folder trusts it.

The file records every build parameter, their hash, the pipeline version and the package and asset
versions. A later build into the folder compares the hash to refuse mixing two rule sets in one dataset,
so a damaged file (not JSON, a field missing, of the wrong type, out of range, NaN, a hand edit that no
longer matches the hash) must not be read as "some other configuration" or end in a traceback: it is
refused in one line naming the file and the field, before anything in the folder is touched.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from exprbench.errors import InputError
from multiexpr.config import (
    PIPELINE_VERSION,
    BuildConfig,
    check_parameter,
    parameters_hash,
)

PACKAGES = ("exprbench", "mediapipe", "scenedetect", "av", "decord", "numpy", "opencv-python", "pyarrow", "datasets",
            "ray")
ASSETS = ("face_landmarker", "dlib_face_recognition", "dlib_shape_predictor_5")
FIELDS = ("assets", "config", "config_hash", "inputs", "packages", "pipeline_version")
DAMAGED_HINT = "restore the file, or pass --force to rebuild this folder from scratch"


@dataclass(frozen=True)
class RecordedRun:
    """The parts of a valid ``run_config.json`` a build compares with its own configuration."""

    pipeline_version: str
    config_hash: str
    config: dict  # parameter -> value; checked as this toolkit's BuildConfig when the pipeline version is its own


def _versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _assets() -> dict:
    from exprbench.assets.registry import get_asset

    return {name: {"version": get_asset(name).version, "sha256": get_asset(name).sha256} for name in ASSETS}


def payload(config: BuildConfig, inputs: dict) -> dict:
    """The content of ``run_config.json`` for a build of ``config`` on ``inputs``."""
    return {"pipeline_version": PIPELINE_VERSION, "config_hash": config.hash(), "config": config.to_dict(),
            "inputs": inputs, "packages": _versions(), "assets": _assets()}


class _Damage(Exception):
    """One field of the file is unusable; ``read`` turns it into the user's one-line error."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{f'field {field}' if field else 'the top level'} {problem}")


def _text(value: object) -> str | None:
    return None if isinstance(value, str) and value else f"must be a non-empty string, not {value!r}"


def _optional_text(value: object) -> str | None:
    return None if value is None or isinstance(value, str) else f"must be a string or null, not {value!r}"


def _hex(length: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if isinstance(value, str) and re.fullmatch(f"[0-9a-f]{{{length}}}", value):
            return None
        return f"must be {length} lowercase hexadecimal digits, not {value!r}"

    return check


def _object(value: object, field: str, keys: tuple[str, ...] | None = None) -> dict:
    """``value`` as a JSON object; with ``keys``, holding exactly those (a missing or an unknown one is damage)."""
    if not isinstance(value, dict):
        raise _Damage(field, f"must be a JSON object, not {value!r}")
    for key in keys or ():
        if key not in value:
            raise _Damage(_join(field, key), "is missing")
    for key in sorted(set(value) - set(keys)) if keys is not None else ():
        raise _Damage(_join(field, key), "is not a field this toolkit writes")
    return value


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _need(mapping: dict, key: str, where: str, check: Callable[[object], str | None]) -> object:
    """``mapping[key]`` (present: ``_object`` checked) if ``check`` finds no problem with it."""
    problem = check(mapping[key])
    if problem is not None:
        raise _Damage(_join(where, key), problem)
    return mapping[key]


def _check_config(values: dict) -> None:
    """Every parameter of this toolkit's ``BuildConfig``, each valid and together consistent."""
    names = tuple(f.name for f in dataclasses.fields(BuildConfig))
    _object(values, "config", names)
    for name in names:
        try:
            check_parameter(name, values[name])
        except ValueError as exc:
            raise _Damage(f"config.{name}", f"is unusable: {exc}") from None
    try:
        BuildConfig.from_dict(values)
    except ValueError as exc:
        raise _Damage("config", f"is unusable: {exc}") from None


def _check(data: object) -> RecordedRun:
    """Every field by type and range (NaN and infinities fail as wrong types or non-finite parameters)."""
    data = _object(data, "", FIELDS)
    version = _need(data, "pipeline_version", "", _text)
    recorded_hash = _need(data, "config_hash", "", _hex(16))
    config = _object(data["config"], "config")
    inputs = _object(data["inputs"], "inputs", ("input", "video_column"))
    _need(inputs, "input", "inputs", _text)
    _need(inputs, "video_column", "inputs", _optional_text)
    packages = _object(data["packages"], "packages", ("python", *PACKAGES))
    for name in packages:
        _need(packages, name, "packages", _text if name == "python" else _optional_text)
    assets = _object(data["assets"], "assets", ASSETS)
    for name in ASSETS:
        asset = _object(assets[name], f"assets.{name}", ("sha256", "version"))
        _need(asset, "version", f"assets.{name}", _text)
        _need(asset, "sha256", f"assets.{name}", _hex(64))
    if version == PIPELINE_VERSION:  # another version's parameters are only compared, never interpreted
        _check_config(config)
    if parameters_hash(config, version) != recorded_hash:  # a hand edit valid on its own still breaks this
        raise _Damage("config_hash", f"{recorded_hash} does not match the recorded pipeline_version and config "
                                     f"(they hash to {parameters_hash(config, version)}): the file was edited")
    return RecordedRun(pipeline_version=version, config_hash=recorded_hash, config=config)


def read(path: Path) -> RecordedRun:
    """The validated content of the ``run_config.json`` at ``path``; ``InputError`` (one line naming the
    file, the field and what to do) if it cannot be read or any field is damaged."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})", DAMAGED_HINT) from None
    except UnicodeDecodeError:
        raise InputError(path, "is not UTF-8 text (damaged)", DAMAGED_HINT) from None
    try:
        return _check(json.loads(text))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})", DAMAGED_HINT) from None
    except RecursionError:
        raise InputError(path, "is nested too deeply to be a run configuration", DAMAGED_HINT) from None
    except _Damage as exc:
        raise InputError(path, str(exc), DAMAGED_HINT) from None
