"""``exprbench probe``: what the toolkit sees in a video (the first thing to run on a suspect file)."""

from __future__ import annotations

from pathlib import Path

import click

from exprbench.video import probe


@click.command("probe")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def probe_cmd(paths: tuple[Path, ...]) -> None:
    """Print fps, frames present, size, codec, duration and rotation of each video."""
    for path in paths:
        info = probe(path)
        note = f" (header claims {info.reported_frames})" if info.over_reported else ""
        click.echo(f"{path}: {info.width}x{info.height} {info.codec} {info.fps:.3f} fps "
                   f"{info.n_frames} frames{note} {info.duration:.2f} s rotation {info.rotation}")
