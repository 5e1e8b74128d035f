"""A non-editable install carries every data file the code reads (issue: `pip install .` lost
leaderboard/paper_table1.csv, so `exprbench leaderboard` and the demo failed unless --no-paper).

The wheel is built from a copy of the tracked files and installed with --no-deps into a folder that
shadows the editable checkout on PYTHONPATH; commands then run from a folder outside the repository."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("exprbench", "exprbench_app", "multiexpr", "baselines", "fantasy_model")


def _tracked() -> list[str]:
    run = subprocess.run(["git", "ls-files", "pyproject.toml", "README.md", *PACKAGES], cwd=REPO,
                         capture_output=True, text=True)
    if run.returncode != 0:
        pytest.skip("not a git checkout")
    return [f for f in run.stdout.splitlines() if (REPO / f).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src, dist = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for rel in _tracked():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, src / rel)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
                    str(src)], check=True, capture_output=True)
    [built] = dist.glob("exprbench-*.whl")
    return built


def test_wheel_holds_every_package_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [f for f in _tracked() if f.split("/")[0] in PACKAGES and not f.endswith(".py")
            and not f.endswith("README.md")]
    assert data, "expected package data (paper table, manifest schema)"
    assert [f for f in data if f not in names] == []


def test_installed_wheel_runs_outside_the_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)}
    where = subprocess.run([sys.executable, "-c", "import exprbench; print(exprbench.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target)), "the installed copy must be the one imported"
    from exprbench.benchmark.manifest import MANIFEST_SCHEMA

    schema = subprocess.run([sys.executable, "-m", "exprbench", "items", "--schema"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert schema.returncode == 0 and json.loads(schema.stdout) == MANIFEST_SCHEMA
    paper = subprocess.run([sys.executable, "-c", "from exprbench.leaderboard import PAPER_TABLE, load_paper_table;"
                            "print(PAPER_TABLE); print(len(load_paper_table(PAPER_TABLE)))"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert paper.returncode == 0, paper.stderr
    path, rows = paper.stdout.split()
    assert path.startswith(str(target)) and int(rows) > 0
    # the app layer's commands come from the wheel's entry points, loaded from the installed copy
    demo = subprocess.run([sys.executable, "-c", "import sys; from exprbench.cli.plugins import command_entry_points;"
                           "print(sys.modules[command_entry_points()['demo'].load().callback.__module__].__file__)"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert demo.returncode == 0 and demo.stdout.startswith(str(target)), demo.stderr
    generate = subprocess.run([sys.executable, "-m", "exprbench", "generate", "--help"], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
    assert generate.returncode == 0 and generate.stdout.startswith("Usage: exprbench generate"), generate.stderr
