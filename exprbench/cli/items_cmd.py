"""``exprbench items``: list a benchmark's items and what each needs from a method (the results contract)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from exprbench.benchmark import load_benchmark
from exprbench.benchmark.contract import requirements
from exprbench.benchmark.manifest import SCHEMA_FILE


@click.command("items")
@click.option("--bench", "bench_root", type=click.Path(file_okay=False, path_type=Path),
              help="Benchmark folder.")
@click.option("--split", type=click.Choice(["single", "multi", "all"]), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@click.option("--schema", is_flag=True, help="Print the manifest's JSON schema and exit.")
def items_cmd(bench_root: Path | None, split: str, as_json: bool, schema: bool) -> None:
    """For each item: the result file, frames, fps, frame size, faces and inputs (docs/results-contract.md)."""
    if schema:
        click.echo(SCHEMA_FILE.read_text(encoding="utf-8"), nl=False)
        return
    if bench_root is None:
        raise click.UsageError("--bench is required (or --schema)")
    bench = load_benchmark(bench_root)
    needs = [requirements(bench, item) for item in bench.select(split)]
    if as_json:
        for need in needs:
            click.echo(json.dumps(need.record(), sort_keys=True))
        return
    click.echo("item\tsplit\tmode\tresult\tframes\tfps\tsize\tfaces\tframe0\tinputs")
    for n in needs:
        inputs = [n.portrait, *(n.driving or ([n.driving_multi] if n.driving_multi else []))]
        click.echo(f"{n.item_id}\t{n.split}\t{n.mode}\t{n.result}\t{n.frames}\t{n.fps:g}\t{n.size[0]}x{n.size[1]}\t"
                   f"{n.faces}\t{'portrait' if n.frame0_is_portrait else '-'}\t{' '.join(inputs)}")
