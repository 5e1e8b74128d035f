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


def test_the_app_layer_commands_come_from_entry_points():
    from exprbench.cli.plugins import command_entry_points

    assert {name: entry.value for name, entry in command_entry_points().items()} == {
        "generate": "exprbench_app.cli.generate_cmd:generate_cmd", "demo": "exprbench_app.cli.demo_cmd:demo_cmd",
        "anchors": "exprbench_app.cli.anchors_cmd:anchors_cmd",
        "validate": "exprbench_app.cli.validate_cmd:validate_cmd"}
    run = subprocess.run([sys.executable, "-m", "exprbench", "generate", "--help"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and run.stdout.startswith("Usage: exprbench generate"), run.stderr


def test_a_plugin_that_fails_to_load_is_one_line_and_the_rest_still_works(monkeypatch):
    from importlib.metadata import EntryPoint

    from click.testing import CliRunner

    from exprbench.cli import plugins
    from exprbench.cli.main import cli

    broken = {"broken": EntryPoint("broken", "no_such_module_here:cmd", plugins.ENTRY_POINT_GROUP),
              "notacommand": EntryPoint("notacommand", "exprbench:__version__", plugins.ENTRY_POINT_GROUP)}
    monkeypatch.setattr(plugins, "command_entry_points", lambda: broken)
    runner = CliRunner()
    for name, says in (("broken", "ModuleNotFoundError: No module named 'no_such_module_here'"),
                       ("notacommand", "it names a str, not a click command")):
        run = runner.invoke(cli, [name])
        lines = run.stderr.splitlines()
        assert run.exit_code == 2 and len(lines) == 1 and "Traceback" not in run.output, run.output
        assert lines[0].startswith(f"error: command '{name}' did not load from entry point") and says in lines[0] and "reinstall" in lines[0]
    listing = runner.invoke(cli, ["--help"])
    assert listing.exit_code == 0 and "protocol" in listing.stdout and "broken" not in listing.stdout
    assert [line.split(":")[0] for line in listing.stderr.splitlines()] == ["warning", "warning"], listing.stderr
    assert runner.invoke(cli, ["protocol"]).exit_code == 0
    assert runner.invoke(cli, ["nosuch"]).exit_code == 2
