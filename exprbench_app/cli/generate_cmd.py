"""``exprbench generate``: run a method over a benchmark and write RESULTS/<method>/<item>.mp4 (+ .json).

Finished items are skipped, so re-running the same command resumes an interrupted run (``--force``
regenerates). One item failing does not stop the run: its error is printed, its traceback goes to
RESULTS/<method>/logs/errors.log, a summary closes the run, and the exit code is 1 if any item failed.
"""

from __future__ import annotations

import sys

import click

from exprbench.cli.common import progress_disabled


def _split_ids(values: tuple[str, ...]) -> list[str] | None:
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return ids or None


@click.command("generate")
@click.option("--method", "-m", "method", required=True,
              help="Adapter name: static, warp, liveportrait, skyreels-a1, hunyuanportrait, x-portrait, "
                   "follow-your-emoji, fantasyportrait-official, or a jobfile method from the config.")
@click.option("--bench", "bench_dir", required=True, type=click.Path(file_okay=False, path_type=str),
              help="Benchmark folder (with manifest.json).")
@click.option("--out", "results", required=True, type=click.Path(file_okay=False, path_type=str),
              help="Results folder; videos go to OUT/<method>/<item_id>.mp4.")
@click.option("--split", type=click.Choice(["single", "multi", "all"]), default="all", show_default=True)
@click.option("--items", multiple=True, help="Only these item ids (comma-separated or repeated).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="Methods config (default $EXPRBENCH_HOME/methods.toml).")
@click.option("--force", is_flag=True, help="Regenerate items that are already finished.")
@click.option("--keep-work", is_flag=True, help="Keep OUT/<method>/.work/<item> (inputs, raw outputs) after success.")
@click.option("--seed", type=int, default=0, show_default=True, help="Passed to methods that take a seed.")
def generate_cmd(method: str, bench_dir: str, results: str, split: str, items: tuple[str, ...],
                 config_path: str | None, force: bool, keep_work: bool, seed: int) -> None:
    """Generate a method's videos for a benchmark (resumable)."""
    from pathlib import Path

    from tqdm import tqdm

    from baselines import generate_items, get_adapter
    from baselines.external.config import load_methods_config
    from exprbench.benchmark.manifest import load_benchmark

    _, config = load_methods_config(config_path)  # first: a config error is found before the benchmark is read
    adapter = get_adapter(method, config.get(method))
    bench = load_benchmark(bench_dir)
    chosen = bench.select(split, _split_ids(items))
    failures = []
    counts = {"done": 0, "skipped": 0, "failed": 0}
    with tqdm(total=len(chosen), desc=method, unit="item", disable=progress_disabled(), file=sys.stderr) as bar:
        def on_item(outcome) -> None:
            counts[outcome.status] += 1
            if outcome.status == "failed":
                failures.append(outcome)
                click.echo(f"\nfailed: {outcome.item_id}: {outcome.error}", err=True)
            bar.update(1)

        generate_items(adapter, bench, chosen, Path(results), force=force, keep_work=keep_work, seed=seed,
                       on_item=on_item)
    click.echo(f"{method}: {counts['done']} generated, {counts['skipped']} already finished, "
               f"{counts['failed']} failed of {len(chosen)} items -> {Path(results) / method}")
    if failures:
        click.echo(f"failed items ({len(failures)}; tracebacks in {Path(results) / method / 'logs' / 'errors.log'}):",
                   err=True)
        for outcome in failures:
            click.echo(f"  {outcome.item_id}: {outcome.error}", err=True)
        raise SystemExit(1)
