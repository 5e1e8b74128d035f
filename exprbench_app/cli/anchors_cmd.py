"""``exprbench anchors``: compute the benchmark's ranking anchors once (thin layer over ``exprbench.anchors``
and, when no eval is given, ``exprbench_app.anchors``)."""

from __future__ import annotations

from pathlib import Path

import click

from exprbench.anchors import write_anchors
from exprbench.benchmark import load_benchmark


@click.command("anchors")
@click.option("--bench", "bench_root", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Benchmark folder (the anchors file is written into it).")
@click.option("--from-eval", "eval_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Use this 'exprbench eval' output of the static baseline instead of computing one.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=Path("anchors_work"),
              show_default=True, help="Where the static baseline's videos and eval go.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--device", default="auto", show_default=True, help="Device for pixel and feature metrics.")
def anchors_cmd(bench_root: Path, eval_dir: Path | None, work: Path, workers: int, device: str) -> None:
    """Score the static baseline on every item and store its values as the benchmark's anchors.

    Leaderboard scores are normalised per face between these anchors (doing nothing = 0) and each
    metric's ideal (= 1), so no other method on the board can change a method's score.
    """
    if eval_dir is not None:
        target = write_anchors(load_benchmark(bench_root), eval_dir)
    else:
        # generation and eval, imported only when run (not for --from-eval or --help)
        from exprbench_app.anchors import compute_anchors

        target = compute_anchors(bench_root, work, workers=workers, device=device)
    click.echo(f"anchors written to {target}")
