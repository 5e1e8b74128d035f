"""``exprbench protocol``: print the versioned evaluation protocol (the source of docs/protocol.md)."""

from __future__ import annotations

import json

import click

from exprbench.protocol import protocol_dict, render_markdown


@click.command("protocol")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable form (as recorded in config.json).")
def protocol_cmd(as_json: bool) -> None:
    """Every protocol choice: extractors, crops, resize filters, units, windows, reductions."""
    click.echo(json.dumps(protocol_dict(), indent=1, sort_keys=True) if as_json else render_markdown(), nl=not as_json)
