"""``exprbench faces``: what the face analysis sees in a video or image (for debugging one's media)."""

from __future__ import annotations

from pathlib import Path

import click

from exprbench.errors import InputError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}


@click.command("faces")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full frame x track table here (.parquet).")
@click.option("--num-faces", type=click.IntRange(min=1), default=None,
              help="Most faces to look for (default 4 for videos, 8 for images).")
@click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Resample the video to this frame rate first (default: every frame).")
@click.option("--max-frames", type=click.IntRange(min=1), default=None, help="Analyse at most this many frames.")
@click.option("--identity-every", type=click.IntRange(min=0), default=5, show_default=True,
              help="Identity embedding on every k-th frame a face is seen (0: off).")
@click.option("--min-face-px", type=click.IntRange(min=0), default=32, show_default=True,
              help="Faces smaller than this (pixels) are skipped and reported.")
@click.option("--no-cache", is_flag=True, help="Recompute even if a cached analysis exists.")
def faces_cmd(path: Path, out: Path | None, num_faces: int | None, fps: float | None, max_frames: int | None,
              identity_every: int, min_face_px: int, no_cache: bool) -> None:
    """Print one line per face track (id, frames seen, coverage, mean box, mean yaw) and optionally
    write the full table."""
    from exprbench.faces import analyze_image, analyze_video

    if out is not None and out.suffix != ".parquet":
        raise InputError(out, "the output table must be a .parquet file", "name it e.g. faces.parquet")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        tracks = analyze_image(path, num_faces=num_faces or 8, min_face_px=min_face_px, identity=identity_every > 0)
    else:
        tracks = analyze_video(path, num_faces=num_faces or 4, identity_every=identity_every,
                               min_face_px=min_face_px, fps=fps, max_frames=max_frames, cache=not no_cache)
    click.echo(f"{path}: {tracks.n_frames} frames {tracks.width}x{tracks.height}, {tracks.n_tracks} face track(s), "
               f"a face in {tracks.frame_coverage():.1%} of frames")
    for row in tracks.summary():
        x0, y0, x1, y1 = row["mean_box"]
        click.echo(f"track {row['track_id']}: {row['frames']} frames, coverage {row['coverage']:.1%}, "
                   f"mean box ({x0:.0f}, {y0:.0f}, {x1:.0f}, {y1:.0f}), mean yaw {row['mean_yaw']:+.1f} deg")
    if tracks.skipped:
        reasons: dict[str, int] = {}
        for skipped in tracks.skipped:
            reasons[skipped.reason] = reasons.get(skipped.reason, 0) + 1
        for reason, count in reasons.items():
            click.echo(f"skipped {count} face detection(s): {reason}")
    if out is not None:
        tracks.to_parquet(out)
        click.echo(f"wrote {out} ({tracks.n_frames * tracks.n_tracks} rows)")
