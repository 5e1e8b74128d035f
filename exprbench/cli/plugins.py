"""Subcommands that other installed packages add to ``exprbench``, through the ``exprbench.commands``
entry-point group.

Why entry points: ``generate``, ``demo``, ``anchors`` and ``validate`` need ``baselines`` and
``multiexpr``, which build on ``exprbench``; importing them from here would make the core depend on what
depends on it. The app layer (``exprbench_app``) declares its commands in ``pyproject.toml`` instead, and
this group finds them in the installed metadata, loading a command only when it is run or listed.

A command that fails to load (a stale install, a missing module, an import error in the plugin) is
reported in one line naming the entry point, the error and the fix (reinstall), and every other
command keeps working: running that command exits 2 with the line, ``--help`` prints it as a warning.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

import click

from exprbench.cli.common import FriendlyGroup
from exprbench.errors import ExprBenchError

ENTRY_POINT_GROUP = "exprbench.commands"


class CommandLoadError(ExprBenchError):
    """An entry point of ``exprbench.commands`` could not be loaded as a click command."""


@cache
def command_entry_points() -> dict[str, EntryPoint]:
    """The declared commands by name (read once: scanning the installed metadata takes tens of ms)."""
    return {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}


def load_command(entry: EntryPoint) -> click.Command:
    """The click command an entry point names, or a one-line ``CommandLoadError`` saying why not."""
    try:
        command = entry.load()
    except Exception as exc:  # noqa: BLE001 - a plugin's import can fail in any way; all are reported alike
        raise CommandLoadError(_failed(entry, f"{type(exc).__name__}: {' '.join(str(exc).split())}")) from exc
    if not isinstance(command, click.Command):
        raise CommandLoadError(_failed(entry, f"it names a {type(command).__name__}, not a click command"))
    return command


def _failed(entry: EntryPoint, why: str) -> str:
    if entry.dist is None:
        fix = "reinstall the package that declares it (in its checkout: pip install -e .)"
    else:
        fix = (f"reinstall {entry.dist.name}: pip install -e . in its checkout, or pip install --force-reinstall "
               f"--no-deps {entry.dist.name}")
    return f"command {entry.name!r} did not load from entry point '{entry.name} = {entry.value}' " \
           f"({ENTRY_POINT_GROUP}): {why} ({fix})"


class PluginGroup(FriendlyGroup):
    """A ``FriendlyGroup`` whose commands are its own plus the ``exprbench.commands`` entry points.

    Built-in commands win over a plugin of the same name, so no install can replace one."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - click's signature
        super().__init__(*args, **kwargs)
        self._load_errors: dict[str, CommandLoadError] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *command_entry_points()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        entry = command_entry_points().get(cmd_name)
        if command is not None or entry is None:
            return command
        try:
            command = load_command(entry)
        except CommandLoadError as exc:
            self._load_errors[cmd_name] = exc
            return None
        self.add_command(command, cmd_name)
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]):  # noqa: ANN201 - click's tuple
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            if args and args[0] in self._load_errors:  # not "no such command": say why it did not load
                raise self._load_errors[args[0]] from None
            raise

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_commands(ctx, formatter)
        for error in self._load_errors.values():
            click.echo(f"warning: {error}", err=True)
