"""``exprbench validate``: prove on a benchmark's own media that each metric orders known-quality outputs."""

from __future__ import annotations

import math
from pathlib import Path

import click

from exprbench.cli.common import progress_disabled
from exprbench.errors import InputError
from exprbench_app.validate import SAMPLE_FRAMES, SAMPLE_ITEMS, sample_bench, validate
from exprbench_app.validate.ladders import ladder_names


def _list(value: str) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] or None


@click.command("validate")
@click.option("--bench", type=click.Path(file_okay=False, path_type=Path), help="Benchmark folder.")
@click.option("--sample", is_flag=True,
              help=f"Use the embedded mini benchmark (prepared into OUT/bench); defaults to {len(SAMPLE_ITEMS)} "
                   f"items and {SAMPLE_FRAMES} frames unless --items / --frames say otherwise.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--items", default="", help="Comma-separated item ids (default: all; --sample: a reduced set).")
@click.option("--all-items", is_flag=True, help="With --sample: every item of the mini benchmark.")
@click.option("--frames", type=click.IntRange(min=2), default=None,
              help="Cut each rung video to its first K frames (scored with allow_short).")
@click.option("--ladders", default="", help=f"Comma-separated ladders (default: all of {', '.join(ladder_names())}).")
@click.option("--workers", type=int, default=1, show_default=True, help="Items scored in parallel processes.")
def validate_cmd(bench: Path | None, sample: bool, out: Path, items: str, all_items: bool, frames: int | None,
                 ladders: str, workers: int) -> None:
    """Build quality ladders from BENCH, score every rung with eval, write OUT/validation.{csv,md,png}."""
    if (bench is None) == (not sample):
        raise InputError(None, "give exactly one of --bench BENCH or --sample")
    chosen = _list(items)
    if sample:
        bench = sample_bench(out)
        if chosen is None and not all_items:
            chosen = list(SAMPLE_ITEMS)
        frames = SAMPLE_FRAMES if frames is None else frames
    report = validate(bench, out, items=chosen, frames=frames, ladders=_list(ladders), workers=workers,
                      progress=not progress_disabled())
    for s in report.scores:
        rho = "NaN" if math.isnan(s.spearman) else f"{s.spearman:.3f}"
        click.echo(f"{s.metric:12s} {s.ladder:9s} {s.mode:5s} spearman {rho:>6s} pairs {s.pairs_correct}/"
                   f"{s.pairs_total} {'pass' if s.passed else 'FAIL'}")
    if report.identity is not None:
        ident = report.identity
        click.echo(f"identity: wrong-person CSIM {ident.wrong_person:.3f} vs band {ident.band[0]:.2f}-"
                   f"{ident.band[1]:.2f}: {'in band or below' if ident.in_band else 'ABOVE the band'} "
                   "({} of {} faces at or below, {} without a value)".format(*ident.faces_in_band))
    for entry in report.missing:
        click.echo(f"not checked (eval wrote no value): {entry}")
    click.echo(f"{len(report.failures)} of {len(report.scores)} metric/ladder checks fail; "
               f"{report.seconds['total']:.0f} s this run ({report.seconds['reused']:.0f} of "
               f"{len(report.rung_methods)} rungs reused); wrote {out / 'validation.csv'}, {out / 'validation.md'}, "
               f"{out / 'validation.png'}")
