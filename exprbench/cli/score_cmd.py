"""``exprbench score``: every applicable metric of one generated video (thin layer over ``score_pair``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from exprbench.score import score_pair


@click.command("score")
@click.argument("generated", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reference", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Ground truth (self mode) or driving video (cross mode).")
@click.option("--portrait", type=click.Path(dir_okay=False, path_type=Path),
              help="Identity image (default in self mode: the reference's first frame).")
@click.option("--mode", type=click.Choice(["self", "cross"]), default="self", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def score_cmd(generated: Path, reference: Path, portrait: Path | None, mode: str, as_json: bool) -> None:
    """Score GENERATED against --reference, per face, exactly as 'exprbench eval' would."""
    rows = score_pair(generated, reference, portrait, mode)
    if as_json:
        safe = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
        click.echo(json.dumps(safe, indent=1, default=str))
        return
    for row in rows:
        values = ", ".join(f"{k} {v:.6g}" for k, v in row.items() if "@" in k)
        click.echo(f"face {row['face']}: coverage {row['coverage']:.2f}, {values}")
