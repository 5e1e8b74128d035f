"""``exprbench eval``: score a method's results on a benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import click

from exprbench.cli.common import progress_disabled
from exprbench.evaluate import EvalOptions, evaluate
from exprbench.metrics.base import resolve_device


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip().split("@")[0] for v in value.split(",") if v.strip())


@click.command("eval")
@click.option("--bench", required=True, type=click.Path(file_okay=False, path_type=Path), help="Benchmark folder.")
@click.option("--results", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder holding <method>/<item_id>.mp4.")
@click.option("--method", required=True, help="Method name (sub-folder of --results).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--split", type=click.Choice(["single", "multi", "all"]), default="all", show_default=True)
@click.option("--items", default="", help="Comma-separated item ids (default: all).")
@click.option("--metrics", "metric_names", default="", help="Comma-separated metrics (default: all).")
@click.option("--workers", type=int, default=1, show_default=True, help="Items scored in parallel processes.")
@click.option("--keep-going", is_flag=True, help="Record per-item errors and score the rest.")
@click.option("--allow-short", is_flag=True, help="Score results with fewer frames than required.")
@click.option("--require", default="", help="Metrics whose unavailability is an error, e.g. fid,fvd.")
@click.option("--device", default="auto", show_default=True,
              help="auto, cpu, cuda or cuda:N for PSNR, SSIM, LPIPS, FID and FVD (face analysis runs on the CPU).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Frames (FVD: 16-frame windows) per device batch (default: each metric's own).")
def eval_cmd(bench: Path, results: Path, method: str, out: Path, split: str, items: str, metric_names: str,
             workers: int, keep_going: bool, allow_short: bool, require: str, device: str,
             batch_size: int | None) -> None:
    """Score RESULTS/METHOD on BENCH: per_item.csv, summary.json and config.json in OUT."""
    resolve_device(device)  # one-line error (exit 2) for --device cuda without CUDA, before any work
    options = EvalOptions(split=split, items=[i for i in items.split(",") if i] or None, workers=workers,
                          keep_going=keep_going, allow_short=allow_short, require=_names(require),
                          metrics=_names(metric_names) or None, device=device, batch_size=batch_size)
    summary = evaluate(bench, results, method, out, options, progress=not progress_disabled())
    for split_name, modes in summary["splits"].items():
        for mode, block in modes.items():
            values = ", ".join(f"{k} {v['value']:.4g}" if isinstance(v.get("value"), float) else f"{k} {v.get('value')}"
                               for k, v in block["metrics"].items())
            click.echo(f"{split_name}/{mode}: {block['items']} items, {block['faces']} faces, "
                       f"coverage {block['coverage']:.2f}: {values}")
    if summary["unavailable"]:  # each was warned about with its fix when the run started; named once more here
        click.echo(f"not computed (weights not installed): {', '.join(summary['unavailable'])}", err=True)
    if summary["errors"]:
        click.echo(f"{len(summary['errors'])} item(s) failed: " + json.dumps(summary["errors"])[:500], err=True)
    click.echo(f"wrote {out / 'per_item.csv'}, {out / 'summary.json'}, {out / 'config.json'}")
    if summary["errors"]:
        raise SystemExit(1)
