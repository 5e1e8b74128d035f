"""`fantasy-portrait`: animate one portrait with one driving video per face (needs a CUDA GPU for real use)."""

from __future__ import annotations

from pathlib import Path

import click

from exprbench import __version__  # one distribution, one version


def _parse_box(text: str) -> tuple[float, float, float, float]:
    values = [float(v) for v in text.split(",")]
    if len(values) != 4:
        raise click.BadParameter(f"a face box is x0,y0,x1,y1; got {text!r}")
    return tuple(values)  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fantasy-portrait")
def main() -> None:
    """FantasyPortrait (Wan2.1-I2V-14B-720P) expression-driven portrait animation."""


@main.command()
@click.option("--image", "image_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--driving", "driving_paths", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, required=True,
              help="One driving video per face; repeat for several people (paired left to right unless --face-box is given).")
@click.option("--face-box", "face_boxes", multiple=True, help="x0,y0,x1,y1 in portrait pixels, one per --driving, same order.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--wan-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Local Wan-AI/Wan2.1-I2V-14B-720P-Diffusers directory.")
@click.option("--model-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Local acvlab/FantasyPortrait directory (fantasyportrait_model.ckpt, face_det.onnx, face_landmark.onnx, pd_fpg.pth).")
@click.option("--num-frames", default=81, show_default=True, help="Frames to generate at the output rate (rounded down to 4k+1).")
@click.option("--max-size", default=720, show_default=True)
@click.option("--steps", default=30, show_default=True)
@click.option("--expression-cfg", default=4.0, show_default=True, help="Expression guidance (the release's portrait_cfg_scale).")
@click.option("--text-cfg", default=1.0, show_default=True, help="Text guidance; 1 disables it.")
@click.option("--ip-scale", default=1.0, show_default=True)
@click.option("--prompt", default="", show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--mask-mode", type=click.Choice(["per_person", "official_compat"]), default="per_person", show_default=True)
@click.option("--background", type=click.Choice(["all", "none"]), default="all", show_default=True,
              help="Whether non-face tokens see every person's expression tokens or none.")
@click.option("--tracking", type=click.Choice(["continuous", "official_compat"]), default="continuous", show_default=True,
              help="Driving-face tracking: one continuous track, or the release's per-frame re-detection (see fantasy_model.face_landmarks).")
@click.option("--driving-fps", default=25.0, show_default=True,
              help="Several driving videos are re-timed to this rate before features, as released; 0 keeps their own rate.")
@click.option("--window", default=81, show_default=True, help="Frames per generation window (4k+1).")
@click.option("--overlap", default=17, show_default=True, help="Frames shared by consecutive windows.")
@click.option("--offload", type=click.Choice(["none", "model_cpu_offload", "group_offload", "sequential"]), default="model_cpu_offload", show_default=True)
@click.option("--fp8", is_flag=True, help="Store transformer weights in float8_e4m3fn.")
@click.option("--device", default="cuda", show_default=True)
def animate(image_path: Path, driving_paths: tuple[Path, ...], face_boxes: tuple[str, ...], output: Path, wan_dir: Path,
            model_dir: Path, num_frames: int, max_size: int, steps: int, expression_cfg: float, text_cfg: float,
            ip_scale: float, prompt: str, seed: int, mask_mode: str, background: str, tracking: str, driving_fps: float,
            window: int, overlap: int, offload: str, fp8: bool, device: str) -> None:
    """Animate IMAGE with the driving videos and write an mp4 to OUTPUT."""
    import numpy as np
    import PIL.Image

    from fantasy_model import generate
    from fantasy_model.video_io import read_video, write_video

    if face_boxes and len(face_boxes) != len(driving_paths):
        raise click.BadParameter(f"{len(face_boxes)} --face-box values for {len(driving_paths)} --driving videos")
    portrait = np.asarray(PIL.Image.open(image_path).convert("RGB"))
    videos = [read_video(p) for p in driving_paths]
    rates = [rate for _, rate in videos]
    options = generate.GenerationOptions(
        max_size=max_size, num_inference_steps=steps, guidance_scale=text_cfg, expression_guidance_scale=expression_cfg,
        ip_scale=ip_scale, prompt=prompt, seed=seed, mask_mode=mask_mode, background=background, tracking=tracking,
        multi_person_fps=driving_fps or None, window_frames=window, window_overlap=overlap,
    )
    fps = generate.generation_fps(rates, options)  # written at the generation rate, as released
    model = generate.FantasyPortrait(generate.ModelPaths.from_model_dir(wan_dir, model_dir), device=device, offload=offload, fp8=fp8)
    frames = generate.animate(
        portrait, [v for v, _ in videos], [_parse_box(b) for b in face_boxes] or None, rates, num_frames,
        model=model, options=options, output_fps=fps,
    )
    write_video(output, frames, fps)
    click.echo(f"wrote {len(frames)} frames to {output}")


@main.command("convert-checkpoint")
@click.argument("ckpt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pd-fgc", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Also bundle pd_fpg.pth as pd_fpg.*")
def convert_checkpoint(ckpt: Path, output: Path, pd_fgc: Path | None) -> None:
    """Check CKPT against the full-size model and write it as flat safetensors to OUTPUT (extras dropped)."""
    from fantasy_model.checkpoint import (
        expected_shapes,
        read_adapter_file,
        save_flat_safetensors,
        select_expected,
    )
    from fantasy_model.pd_fgc import load_fan_encoder

    adapter, bundled = read_adapter_file(ckpt)
    adapter = select_expected(adapter, expected_shapes(), ckpt)
    extra = load_fan_encoder(pd_fgc).state_dict() if pd_fgc else bundled
    save_flat_safetensors(output, adapter, extra)
    click.echo(f"wrote {len(adapter)} adapter tensors{' + PD-FGC' if extra else ''} to {output}")


if __name__ == "__main__":
    main()
