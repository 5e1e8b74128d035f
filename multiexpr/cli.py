"""The ``multiexpr`` command."""

from __future__ import annotations

import click

from exprbench import __version__
from exprbench.cli.common import FriendlyGroup, configure_logging, verbosity_options


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiexpr")
@verbosity_options
def cli(verbose: int, quiet: int) -> None:
    """Multi-Expr curation: build a dataset of multi-face expression clips from raw videos."""
    configure_logging(verbose, quiet)


def main() -> None:
    cli(prog_name="multiexpr")
