"""``exprbench prepare``: build a benchmark folder from media, or the embedded mini benchmark."""

from __future__ import annotations

from pathlib import Path

import click

from exprbench.benchmark.prepare import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    SAMPLE_FRAMES,
    prepare,
    prepare_sample,
)
from exprbench.cli.common import progress_disabled
from exprbench.errors import InputError


@click.command("prepare")
@click.option("--portraits", type=click.Path(file_okay=False, path_type=Path), help="Folder of portrait images.")
@click.option("--driving", type=click.Path(file_okay=False, path_type=Path), help="Folder of driving videos.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Benchmark folder.")
@click.option("--sample", is_flag=True, help="Build the embedded mini benchmark from the real sample media.")
@click.option("--frames", type=int, default=None,
              help=f"Frames per driving clip (default {DEFAULT_FRAMES}; {SAMPLE_FRAMES} for --sample).")
@click.option("--fps", type=float, default=DEFAULT_FPS, show_default=True, help="Driving clip frame rate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cross-item assignment.")
@click.option("--name", default="custom", show_default=True, help="Benchmark name recorded in results.")
@click.option("--force", is_flag=True,
              help="Write into a non-empty --out that prepare did not create (same-named files are replaced; "
                   "no other file is deleted).")
def prepare_cmd(portraits: Path | None, driving: Path | None, out: Path, sample: bool, frames: int | None, fps: float,
                seed: int, name: str, force: bool) -> None:
    """Build a benchmark: trimmed 25 fps driving clips, faces, self and seeded cross items, manifest.json."""
    if sample:
        bench = prepare_sample(out, frames=frames or SAMPLE_FRAMES, fps=fps, seed=seed, force=force)
    else:
        if portraits is None or driving is None:
            raise InputError(None, "--portraits and --driving are required (or use --sample)")
        bench = prepare(portraits, driving, out, frames=frames or DEFAULT_FRAMES, fps=fps, seed=seed, name=name,
                        progress=not progress_disabled(), force=force)
    counts: dict[str, int] = {}
    for item in bench.items:
        key = f"{item.split}/{item.mode}"
        counts[key] = counts.get(key, 0) + 1
    click.echo(f"{bench.root / 'manifest.json'}: {len(bench.items)} items ("
               + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")")
