"""``exprbench assets verify`` (issue 16 item 10): it used to exit 0 with every asset missing."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from exprbench.assets import all_assets, asset_path, cache_path, get_asset, registry
from exprbench.cli.main import cli

# the shipped assets, read at import: tests elsewhere register stand-ins ("test_*") in the same process
SHIPPED = {a.name: a for a in all_assets() if not a.name.startswith("test_")}
DEFAULT = [name for name, a in SHIPPED.items() if "default" in a.groups]
OPTIONAL = [name for name, a in SHIPPED.items() if "default" not in a.groups]


@pytest.fixture(autouse=True)
def shipped_registry(monkeypatch):
    """Verify sees only the shipped assets, whatever other test files registered in this worker."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(SHIPPED))


def verify(*names: str):  # noqa: ANN201 - click.testing.Result
    return CliRunner().invoke(cli, ["assets", "verify", *names])


def error_line(result) -> str:  # noqa: ANN001
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture()
def seeded_home(tmp_path, monkeypatch):
    """An EXPRBENCH_HOME holding the default assets (links to the real cached files), no optional ones."""
    real = {name: asset_path(name, offline=True) for name in DEFAULT}
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path / "home"))
    for name, path in real.items():
        dst = cache_path(get_asset(name))
        dst.parent.mkdir(parents=True)
        dst.symlink_to(path)
    return tmp_path / "home"


def test_every_asset_missing_fails_naming_them(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPRBENCH_HOME", str(tmp_path / "empty"))
    result = verify()
    assert result.exit_code == 3, result.output
    line = error_line(result)
    assert f"{len(DEFAULT)} needed asset(s) missing" in line and all(name in line for name in DEFAULT)
    assert "exprbench assets fetch" in line
    shown = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("missing")]
    assert sorted(shown) == sorted(DEFAULT + OPTIONAL)


def test_one_named_missing_asset_fails(seeded_home):
    assert verify("face_landmarker").exit_code == 0
    cache_path(get_asset("face_landmarker")).unlink()
    result = verify("face_landmarker")
    assert result.exit_code == 3 and "face_landmarker" in error_line(result)


def test_optional_assets_missing_pass_and_a_corrupt_one_fails(seeded_home):
    result = verify()
    assert result.exit_code == 0, result.output
    assert all(f"missing  {name} (optional)" in result.stdout for name in OPTIONAL)
    assert all(f"ok       {name}" in result.stdout for name in DEFAULT)

    target = cache_path(get_asset("sample_single_face"))
    data = target.read_bytes()
    target.unlink()
    target.write_bytes(data[:-10] + b"0123456789")  # same size, other bytes
    result = verify()
    assert result.exit_code == 3
    assert "BAD      sample_single_face" in result.stdout
    assert "1 cached asset(s) failed verification" in error_line(result)
