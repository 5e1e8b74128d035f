"""``exprbench demo``: the whole pipeline on the embedded real sample (what ``make demo`` runs)."""

from __future__ import annotations

from pathlib import Path

import click

from exprbench_app.demo import run_demo


@click.command("demo")
@click.option("--out", default="demo_out", show_default=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--publish", type=click.Path(file_okay=False, path_type=Path),
              help="Also copy the published leaderboard here (e.g. leaderboard/).")
@click.option("--workers", type=int, default=1, show_default=True, help="Parallel processes for curation and eval.")
@click.option("--validate", is_flag=True, help="Also validate the metrics (exprbench validate, ~10 CPU-minutes) "
                                                "and put the report on the leaderboard page.")
def demo_cmd(out: Path, publish: Path | None, workers: int, validate: bool) -> None:
    """Curate the sample Multi-Expr, prepare the mini ExprBench, generate static and warp, evaluate, publish."""
    report = run_demo(out, publish=publish, say=lambda line: click.echo(line, err=True), workers=workers,
                      validate=validate)
    click.echo(f"demo finished in {report.seconds / 60:.1f} min; outputs:")
    for name, seconds, where in report.steps:
        click.echo(f"  {name:40s} {seconds:6.0f} s  {where}")
