"""The ``multiexpr`` command."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import click

from exprbench import __version__
from exprbench.cli.common import (
    FriendlyGroup,
    configure_logging,
    progress_disabled,
    verbosity_options,
)
from exprbench.errors import InputError
from multiexpr.config import BuildConfig, EngineConfig

log = logging.getLogger("multiexpr")


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiexpr")
@verbosity_options
def cli(verbose: int, quiet: int) -> None:
    """Multi-Expr curation: build a dataset of multi-face expression clips from raw videos."""
    configure_logging(verbose, quiet)


def _parse_params(config_file: Path | None, params: tuple[str, ...]) -> BuildConfig:
    values: dict = {}
    if config_file is not None:
        try:
            loaded = json.loads(config_file.read_bytes().decode("utf-8"))
        except OSError as exc:
            raise InputError(config_file, f"cannot be read ({exc.strerror or exc})") from None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise InputError(config_file, f"is not valid JSON: {exc}") from None
        if isinstance(loaded, dict) and "config" in loaded:  # a run_config.json works too
            loaded = loaded["config"]
        if not isinstance(loaded, dict):
            raise InputError(config_file, "must hold a JSON object of build parameters, or be a run_config.json",
                             "see `multiexpr params`")
        values.update(loaded)
    fields = {f.name: f for f in dataclasses.fields(BuildConfig)}
    for item in params:
        key, sep, raw = item.partition("=")
        if not sep or key not in fields:
            raise InputError(None, f"--param {item!r}: expected NAME=VALUE with NAME one of the build parameters",
                             "see `multiexpr params`")
        default = getattr(BuildConfig(), key)
        try:
            values[key] = type(default)(raw) if not isinstance(default, bool) else raw.lower() in ("1", "true", "yes")
        except ValueError:
            raise InputError(None, f"--param {key}: {raw!r} is not a {type(default).__name__}") from None
    try:
        return BuildConfig.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise InputError(config_file, str(exc), "see `multiexpr params`") from None


@cli.command()
@click.argument("input_path", required=False, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder (the dataset).")
@click.option("--sample", is_flag=True, help="Curate the embedded sample corpus (composed from the real sample media).")
@click.option("--workers", default=1, show_default=True, help="Worker processes (local) or Ray CPUs (local Ray).")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--ray-address", default=None, help="Address of a running Ray cluster (default: start a local one).")
@click.option("--root", type=click.Path(path_type=Path), default=None,
              help="Root for a manifest's relative paths (default: the manifest's folder).")
@click.option("--video-column", default=None, help="Manifest column with the video path (default: video, path, ...).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSON file of build parameters (or a previous run_config.json).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Override one parameter (repeatable).")
@click.option("--captioner", default=None, metavar="MODULE:FACTORY", help="Caption clips with this Captioner.")
@click.option("--license", "license_id", default="unknown", show_default=True, metavar="ID",
              help="Licence of the sources, written to the dataset card (e.g. cc-by-4.0).")
@click.option("--force", is_flag=True,
              help="Rebuild an output that was built with another configuration, or write into a non-empty "
                   "folder the build did not create (only files the build writes are replaced or deleted).")
def build(input_path: Path | None, out: Path, sample: bool, workers: int, engine: str, ray_address: str | None,
          root: Path | None, video_column: str | None, config_file: Path | None, params: tuple[str, ...],
          captioner: str | None, license_id: str, force: bool) -> None:
    """Curate INPUT (a folder of videos, or a CSV/JSONL list with a video column) into --out.

    Rerun the same command after an interruption (Ctrl-C stops at once, keeping finished sources):
    finished sources whose files are unchanged are skipped and the output is identical to an
    uninterrupted run.
    """
    from multiexpr.build import build as run_build

    if sample == (input_path is not None):
        raise InputError(None, "give either INPUT or --sample", "e.g. multiexpr build --sample --out demo")
    config = _parse_params(config_file, params)
    if captioner:
        config = dataclasses.replace(config, captioner=captioner)
    try:
        engine_config = EngineConfig(engine=engine, workers=workers, ray_address=ray_address)
    except ValueError as exc:
        raise InputError(None, f"--workers/--engine: {exc}") from None
    show = not progress_disabled()

    def progress(done: int, total: int, marker: dict) -> None:
        if show:
            click.echo(f"[{done}/{total}] {marker['source']}: {marker['accepted']} of {marker['candidates']} "
                       f"candidate clips kept ({marker['seconds']:.1f} s)", err=True)

    result = run_build(input_path, out, config, engine_config, root=root, video_column=video_column, force=force,
                       sample=sample, license=license_id, progress=progress)
    stats = result.stats
    drops = {f"{stage}/{reason}": n for stage, e in stats["stages"].items() for reason, n in e["dropped"].items()}
    click.echo(f"{stats['accepted']} clips from {stats['sources']} sources ({result.skipped} already done) "
               f"-> {out}  [{result.seconds:.1f} s]")
    if drops:
        click.echo("rejected: " + ", ".join(f"{k} {v}" for k, v in sorted(drops.items())))


@cli.command()
def params() -> None:
    """List every build parameter with its default."""
    for field in dataclasses.fields(BuildConfig):
        click.echo(f"{field.name} = {getattr(BuildConfig(), field.name)!r}")


def main() -> None:
    cli(prog_name="multiexpr")


if __name__ == "__main__":
    main()
