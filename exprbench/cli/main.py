"""The ``exprbench`` command: a thin layer over the Python API.

The commands defined here use ``exprbench`` alone; ``generate``, ``demo``, ``anchors`` and ``validate``
come from the app layer through the ``exprbench.commands`` entry points (``exprbench.cli.plugins``)."""

from __future__ import annotations

import click

from exprbench import __version__
from exprbench.cli.assets_cmd import assets
from exprbench.cli.common import configure_logging, verbosity_options
from exprbench.cli.eval_cmd import eval_cmd
from exprbench.cli.faces_cmd import faces_cmd
from exprbench.cli.items_cmd import items_cmd
from exprbench.cli.leaderboard_cmd import leaderboard_cmd
from exprbench.cli.plugins import PluginGroup
from exprbench.cli.prepare_cmd import prepare_cmd
from exprbench.cli.protocol_cmd import protocol_cmd
from exprbench.cli.score_cmd import score_cmd
from exprbench.cli.video_cmd import probe_cmd


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="exprbench")
@verbosity_options
def cli(verbose: int, quiet: int) -> None:
    """ExprBench: benchmark, metrics and face analysis for multi-character portrait animation."""
    configure_logging(verbose, quiet)


cli.add_command(assets)
cli.add_command(probe_cmd)
cli.add_command(prepare_cmd)
cli.add_command(items_cmd)
cli.add_command(eval_cmd)
cli.add_command(faces_cmd)
cli.add_command(protocol_cmd)
cli.add_command(leaderboard_cmd)
cli.add_command(score_cmd)


def main() -> None:
    cli(prog_name="exprbench")
