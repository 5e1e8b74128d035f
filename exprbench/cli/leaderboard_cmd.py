"""``exprbench leaderboard``: publish eval outputs as versioned CSVs, a static page, plots and a Markdown table."""

from __future__ import annotations

from pathlib import Path

import click

from exprbench.errors import InputError


def _versions(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        name, sep, version = value.partition("=")
        if not sep or not name.strip() or not version.strip():
            raise InputError(None, f"--method-version {value!r} is not NAME=VERSION",
                             "e.g. --method-version warp=warp-1")
        out[name.strip()] = version.strip()
    return out


@click.command("leaderboard")
@click.option("--runs", "runs", multiple=True, type=click.Path(path_type=Path),
              help="Eval output folders (written by 'exprbench eval --out'); several may follow one --runs.")
@click.argument("more_runs", nargs=-1, metavar="[DIR]...", type=click.Path(path_type=Path))
@click.option("--out", default=Path("leaderboard"), show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the CSVs, index.html, README.md, protocol.md and plots/.")
@click.option("--method-version", "method_versions", multiple=True, metavar="NAME=VERSION",
              help="Version of a method whose run folder has no run.json saying it (repeatable).")
@click.option("--run-by", default=None, help="Who ran the evaluations, for runs whose run.json does not say.")
@click.option("--paper", "paper", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The paper's Table 1 CSV (default: the copy shipped with the package).")
@click.option("--no-paper", is_flag=True, help="Leave the paper's Table 1 rows out.")
@click.option("--no-plots", is_flag=True, help="Skip the matplotlib plots.")
@click.option("--validation", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="validation.csv from 'exprbench validate', shown in the page's 'Can these numbers be trusted?' "
                   "section (without it the section says validation was not run).")
@click.option("--force", is_flag=True,
              help="Write into a non-empty --out that no leaderboard build created (same-named files are "
                   "replaced; no other file is deleted).")
def leaderboard_cmd(runs: tuple[Path, ...], more_runs: tuple[Path, ...], out: Path, method_versions: tuple[str, ...],
                    run_by: str | None, paper: Path | None, no_paper: bool, no_plots: bool,
                    validation: Path | None, force: bool) -> None:
    """Merge eval output folders into OUT: exprbench-v2-{single,multi}.csv, per-face and pairs CSVs, page and plots.

    Rows are scored against the benchmark's anchors and ranked by paired bootstrap (ties shown as ties);
    runs without anchors, with other benchmark content or with missing items are listed unranked, with
    the reason. OUT holds only what leaderboard builds wrote unless --force; a rebuild deletes only
    files an earlier build wrote.

    Method version and run-by come from each folder's run.json ({"method_version": ..., "run_by": ...})
    when present, else from --method-version / --run-by, else the toolkit version and "unknown".
    """
    from exprbench.leaderboard import PAPER_TABLE, build_leaderboard

    folders = [*runs, *more_runs]
    if no_paper and paper is not None:
        raise click.UsageError("--paper and --no-paper exclude each other")
    table = None if no_paper else (paper or PAPER_TABLE)
    result = build_leaderboard(folders, out, method_versions=_versions(method_versions), run_by=run_by,
                               paper_table=table, plots=not no_plots, validation=validation, force=force)
    for name, count in result.rows.items():
        click.echo(f"{out / name}: {count} rows")
    click.echo(f"open {out / 'index.html'} ({len(result.files)} files written)")
