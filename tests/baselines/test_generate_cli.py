"""``exprbench generate``: resume, item selection, failure summary and exit codes."""

from __future__ import annotations

import json
import sys

import click
from benchfix import FAKE_METHOD
from click.testing import CliRunner

from exprbench.cli.common import FriendlyGroup
from exprbench_app.cli.generate_cmd import generate_cmd


@click.group(cls=FriendlyGroup)
def cli() -> None:
    pass


cli.add_command(generate_cmd)


def test_generate_then_resume(bench, tmp_path):
    runner = CliRunner()
    args = ["generate", "--method", "static", "--bench", str(bench.root), "--out", str(tmp_path), "--items",
            "self_woman,cross_astronaut"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "static: 2 generated, 0 already finished, 0 failed of 2 items" in first.output
    second = runner.invoke(cli, args)
    assert second.exit_code == 0 and "0 generated, 2 already finished" in second.output
    split = runner.invoke(cli, ["generate", "-m", "static", "--bench", str(bench.root), "--out", str(tmp_path),
                                "--split", "multi"])
    assert split.exit_code == 0 and "2 generated, 0 already finished, 0 failed of 2 items" in split.output


def test_failures_are_summarised_and_set_the_exit_code(bench, tmp_path):
    config = tmp_path / "methods.json"
    config.write_text(json.dumps({"fake": {"kind": "jobfile", "python": sys.executable, "script": str(FAKE_METHOD),
                                           "extra_args": ["crash"]}}))
    result = CliRunner().invoke(cli, ["generate", "-m", "fake", "--bench", str(bench.root), "--out", str(tmp_path),
                                      "--split", "single", "--config", str(config)])
    assert result.exit_code == 1
    assert "0 generated, 0 already finished, 2 failed of 2 items" in result.output
    assert "self_woman: fake on self_woman: failed with exit code 3" in result.output


def test_user_errors_are_one_line(bench, tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(cli, ["generate", "-m", "nosuch", "--bench", str(bench.root), "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and unknown.output.startswith("error: unknown method 'nosuch'")
    missing = runner.invoke(cli, ["generate", "-m", "static", "--bench", str(bench.root), "--out", str(tmp_path),
                                  "--items", "nope"])
    assert missing.exit_code == 2 and "has no item(s) nope" in missing.output
    unconfigured = runner.invoke(cli, ["generate", "-m", "liveportrait", "--bench", str(bench.root), "--out",
                                       str(tmp_path), "--config", str(tmp_path / "absent.toml")])
    assert unconfigured.exit_code == 2 and "methods config not found" in unconfigured.output
