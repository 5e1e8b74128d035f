"""Every command answers --version, and ``python -m exprbench`` / ``python -m multiexpr`` work."""

import subprocess
import sys

import pytest

from exprbench import __version__


@pytest.mark.parametrize(("module", "name"), [("exprbench", "exprbench"), ("multiexpr", "multiexpr"),
                                              ("fantasy_model.cli", "fantasy-portrait")])
def test_module_entry_point_prints_its_version(module, name):
    run = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"{name}, version {__version__}"


def test_python_m_exprbench_runs_subcommands():
    run = subprocess.run([sys.executable, "-m", "exprbench", "protocol"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith("# ExprBench scoring protocol")
