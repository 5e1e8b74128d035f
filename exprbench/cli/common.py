"""What every command-line entry point shares: -v/-q logging, one-line errors, exit codes.

A user-facing ``ExprBenchError`` prints as ``error: <message>`` with a non-zero exit and no
traceback (``-v`` shows it). Shared by ``exprbench`` and ``multiexpr`` so both behave the same.
"""

from __future__ import annotations

import logging
import sys

import click

from exprbench.errors import ExprBenchError


def configure_logging(verbose: int, quiet: int) -> None:
    level = logging.INFO - 10 * verbose + 10 * quiet
    logging.basicConfig(level=max(logging.DEBUG, min(level, logging.ERROR)),
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)


def verbosity_options(func):  # noqa: ANN001, ANN201 - click decorator
    func = click.option("-q", "--quiet", count=True, help="Less output (-qq: errors only).")(func)
    return click.option("-v", "--verbose", count=True, help="More output; -v also shows tracebacks.")(func)


class FriendlyGroup(click.Group):
    """A click group that turns ExprBenchError into one line on stderr."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        try:
            return super().invoke(ctx)
        except ExprBenchError as exc:
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def progress_disabled() -> bool:
    """Progress bars show on an interactive terminal and hide with -q or when logging is quiet."""
    return not sys.stderr.isatty() or not logging.getLogger().isEnabledFor(logging.INFO)
