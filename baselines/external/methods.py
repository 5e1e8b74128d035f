"""Adapters for the published methods, each run as a subprocess in its own environment.

Each adapter knows, from ``/work/shared/docs/baselines.md`` (repositories and commits examined there),
the command line its method needs, the checkpoint files it reads, and where it writes its video; the
harness does the rest (normalising fps, frame count and size; compositing faces for methods that
animate one face). Every method runs with cwd = its checkout (all of them use relative checkpoint paths)
on copies of the inputs inside the job's work folder (LivePortrait writes a ``.pkl`` next to its driving
video), with stdout/stderr in ``RESULTS/<method>/logs/<item>.log``.

``JobFileAdapter`` (``kind = "jobfile"`` in the config) runs any script that speaks the job-file
protocol: ``PYTHON SCRIPT JOB.json``; the job names the portrait, one driving video per face, the face
boxes, fps and frame count, and where to write the video (``output``) and a result file (``result``:
``{"status": "ok" | "error", "output": path, "frame_fps": optional, "message": optional}``). It is how a
user plugs in their own shim, and how the protocol is tested without any method installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from baselines.external.config import (
    MethodSettings,
    field_error,
    path_problem,
    require_files,
    settings_from_table,
)
from baselines.external.process import MethodError, run_logged
from baselines.job import Job, MethodOutput
from exprbench.errors import InputError
from exprbench.video import load_image, save_image

SHIMS = Path(__file__).parent / "shims"


def repo_commit(repo: Path) -> str | None:
    """The checkout's commit from ``.git`` (no git binary needed), recorded in every sidecar."""
    head = repo / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
    except OSError:
        return None
    if not ref.startswith("ref: "):
        return ref
    name = ref[5:]
    loose = repo / ".git" / name
    if loose.is_file():
        return loose.read_text().strip()
    packed = repo / ".git" / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            if line.endswith(" " + name):
                return line.split(" ", 1)[0]
    return None


class ExternalMethod:
    """Common machinery: settings, checkpoint checks, the subprocess run, output discovery."""

    name = ""
    version = ""
    native_multi_face = False
    max_native_faces: int | None = None
    needs_face_crop = False
    default_checkpoints: str | None = None  # relative to the checkout
    fixed_checkpoints = False  # True: the method hard-codes <repo>/<default_checkpoints>
    required_files: tuple[str, ...] = ()
    config_keys = frozenset({"python", "repo", "checkpoints", "extra_args", "timeout", "env"})  # what it reads

    def __init__(self, table: dict[str, Any]) -> None:
        if not table:
            raise InputError(None, f"method {self.name!r} is not configured",
                             f"add a [{self.name}] table with python and repo to $EXPRBENCH_HOME/methods.toml "
                             "or pass --config (see baselines/README.md)")
        self.settings: MethodSettings = settings_from_table(self.name, table, self.default_checkpoints)
        if self.fixed_checkpoints:
            expected = self.settings.repo / str(self.default_checkpoints)
            if self.settings.checkpoints.resolve() != expected.resolve():
                raise InputError(self.settings.config_file, f"[{self.name}] reads its weights from {expected} only",
                                 f"remove {self.name}.checkpoints and put (or symlink) the weights there")
        require_files(self.settings, self.required_files)

    # -- what each method defines ---------------------------------------------------------------------

    def command(self, job: Job, out_dir: Path) -> list[str]:
        raise NotImplementedError

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        raise NotImplementedError

    def prepare(self, job: Job, out_dir: Path) -> None:
        """Write whatever the method needs besides its command line (temp configs, templates)."""

    # -- shared -----------------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {"settings": self.settings.to_json(), "commit": repo_commit(self.settings.repo)}

    def log_path(self, job: Job, suffix: str = "") -> Path:
        return (job.log_dir or job.work_dir / "logs") / f"{job.item_id}{suffix}.log"

    def run(self, argv: list[str], job: Job, suffix: str = "") -> None:
        env = {"PYTHONPATH": str(self.settings.repo), **self.settings.env}
        run_logged(argv, cwd=self.settings.repo, log=self.log_path(job, suffix), timeout=self.settings.timeout,
                   env=env, name=f"{self.name} on {job.item_id}", config_key=self.name)

    def generate(self, job: Job) -> MethodOutput:
        out_dir = job.work_dir / "method_out"
        out_dir.mkdir(parents=True, exist_ok=True)
        self.prepare(job, out_dir)
        self.run(self.command(job, out_dir), job)
        return self.find_output(job, out_dir)

    def _single(self, job: Job, out_dir: Path, pattern: str, exclude: tuple[str, ...] = ()) -> Path:
        found = sorted(p for p in out_dir.glob(pattern) if not p.name.endswith(exclude))
        if len(found) != 1:
            what = "no" if not found else f"{len(found)}"
            raise MethodError(f"{self.name} on {job.item_id}: {what} output video matching {pattern} in {out_dir} "
                              f"(log: {self.log_path(job)})")
        return found[0]


class LivePortrait(ExternalMethod):
    """KwaiVGI/LivePortrait ``inference.py``: relative motion from driving frame 0, pasted back full frame."""

    name = "liveportrait"
    version = "liveportrait-adapter-1"
    default_checkpoints = "pretrained_weights"
    fixed_checkpoints = True
    required_files = ("insightface/models/buffalo_l/det_10g.onnx", "insightface/models/buffalo_l/2d106det.onnx",
                      "liveportrait/base_models/appearance_feature_extractor.pth",
                      "liveportrait/base_models/motion_extractor.pth", "liveportrait/base_models/spade_generator.pth",
                      "liveportrait/base_models/warping_module.pth", "liveportrait/landmark.onnx",
                      "liveportrait/retargeting_models/stitching_retargeting_module.pth")

    def command(self, job: Job, out_dir: Path) -> list[str]:
        return [str(self.settings.python), "inference.py", "-s", str(job.portrait), "-d", str(job.per_face_driving()[0]),
                "-o", str(out_dir), *self.settings.extra_args]

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        expected = f"{job.portrait.stem}--{job.per_face_driving()[0].stem}.mp4"
        return MethodOutput(self._single(job, out_dir, expected))


class SkyReelsA1(ExternalMethod):
    """SkyworkAI/SkyReels-A1: 480x720 landscape canvas at 12 fps; the long-video script by default.

    The portrait is padded (edge pixels) to the 3:2 canvas before the run, so the method's own
    centre-crop/pad is a pure resize and the harness can crop the portrait region back exactly.
    """

    name = "skyreels-a1"
    version = "skyreels-a1-adapter-1"
    default_checkpoints = "pretrained_models"
    fixed_checkpoints = True
    canvas = (720, 480)  # W, H
    config_keys = ExternalMethod.config_keys | {"script"}  # the short-video script instead of the long one

    @property
    def script(self) -> str:
        return self.settings.script or "inference_long_video.py"

    @property
    def required_files(self) -> tuple[str, ...]:  # type: ignore[override]
        files = ("FLAME", "mediapipe", "smirk/SMIRK_em1.pt") + tuple(
            f"SkyReels-A1-5B/{d}" for d in ("pose_guider", "scheduler", "tokenizer", "siglip-so400m-patch14-384",
                                            "transformer", "vae", "text_encoder"))
        return files + (("film_net/film_net_fp16.pt",) if self.script == "inference_long_video.py" else ())

    def padding(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) pixels that bring the portrait to the canvas aspect ratio."""
        cw, ch = self.canvas
        if width * ch >= height * cw:
            extra = round(width * ch / cw) - height
            return 0, extra // 2, 0, extra - extra // 2
        extra = round(height * cw / ch) - width
        return extra // 2, 0, extra - extra // 2, 0

    def prepare(self, job: Job, out_dir: Path) -> None:
        import numpy as np

        left, top, right, bottom = self.padding(job.width, job.height)
        padded = np.pad(load_image(job.portrait), ((top, bottom), (left, right), (0, 0)), mode="edge")
        save_image(job.work_dir / "portrait_canvas.png", padded)

    def command(self, job: Job, out_dir: Path) -> list[str]:
        return [str(self.settings.python), self.script, "--image_path", str(job.work_dir / "portrait_canvas.png"),
                "--driving_video_path", str(job.per_face_driving()[0]), "--output_path", str(out_dir),
                *self.settings.extra_args]

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        left, top, right, bottom = self.padding(job.width, job.height)
        w, h = job.width + left + right, job.height + top + bottom
        box = (left / w, top / h, (left + job.width) / w, (top + job.height) / h)
        return MethodOutput(self._single(job, out_dir, "*_output.mp4"), content_box=box,
                            notes=[f"portrait padded to the 3:2 canvas with {left, top, right, bottom} px"])


class HunyuanPortrait(ExternalMethod):
    """Tencent-Hunyuan/HunyuanPortrait: settings live in a YAML, so a copy with our output_dir is written."""

    name = "hunyuanportrait"
    version = "hunyuanportrait-adapter-1"
    default_checkpoints = "pretrained_weights"
    fixed_checkpoints = True
    base_config = "config/hunyuan-portrait.yaml"
    required_files = ("arcface.onnx", "yoloface_v5m.pt", "scheduler/scheduler_config.json", "unet/config.json",
                      "vae/config.json", "vae/diffusion_pytorch_model.fp16.safetensors") + tuple(
        f"hyportrait/{n}.pth" for n in ("dino", "expression", "headpose", "image_proj", "motion_proj", "pose_guider", "unet"))

    def prepare(self, job: Job, out_dir: Path) -> None:
        import yaml

        source = self.settings.repo / self.base_config
        if not source.is_file():
            raise InputError(source, "HunyuanPortrait's config is missing", f"check {self.name}.repo")
        config = yaml.safe_load(source.read_text())
        config["output_dir"] = str(out_dir)
        (job.work_dir / "hunyuan-portrait.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def command(self, job: Job, out_dir: Path) -> list[str]:
        return [str(self.settings.python), "inference.py", "--config", str(job.work_dir / "hunyuan-portrait.yaml"),
                "--video_path", str(job.per_face_driving()[0]), "--image_path", str(job.portrait),
                *self.settings.extra_args]

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        if not list(out_dir.glob("*/full_resolution.mp4")) and list(out_dir.glob("*/cropped.mp4")):
            raise MethodError(f"{self.name} on {job.item_id}: only cropped.mp4 was written; update the checkout to a "
                              "commit that writes full_resolution.mp4 (Dec 2025 or later)")
        return MethodOutput(self._single(job, out_dir, "*/full_resolution.mp4"))


class XPortrait(ExternalMethod):
    """bytedance/X-Portrait ``core/test_xportrait.py``; resizes its source to 512^2, so it gets a face crop.

    ``--out_frames 0`` (all frames; the README's -1 drops the last), ``--best_frame 0`` (driving frame 0
    is the reference, ExprBench's convention), ``--ddim_steps 30`` (the default would be 1).
    """

    name = "x-portrait"
    version = "x-portrait-adapter-1"
    needs_face_crop = True
    default_checkpoints = "checkpoint"
    required_files = ("model_state-415001.th",)

    def command(self, job: Job, out_dir: Path) -> list[str]:
        return [str(self.settings.python), "core/test_xportrait.py",
                "--model_config", "config/cldm_v15_appearance_pose_local_mm.yaml",
                "--output_dir", str(out_dir), "--resume_dir", str(self.settings.checkpoints / "model_state-415001.th"),
                "--seed", "999", "--uc_scale", "5", "--source_image", str(job.portrait),
                "--driving_video", str(job.per_face_driving()[0]), "--best_frame", "0", "--out_frames", "0",
                "--num_mix", "4", "--ddim_steps", "30", *self.settings.extra_args]

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        return MethodOutput(self._single(job, out_dir, "inference_*_by_*.mp4"))


class FollowYourEmoji(ExternalMethod):
    """mayuelala/FollowYourEmoji: landmark template (MediaPipe in its env), then a torch.distributed run.

    Its stock config generates only ``video_length`` = 16 frames and its writer says 7 fps although the
    frames are 1:1 with the template, so a config copy sets ``video_length`` to the clip's frame count and
    the harness is told the frames' real rate.
    """

    name = "follow-your-emoji"
    version = "follow-your-emoji-adapter-1"
    needs_face_crop = True
    default_checkpoints = "pretrained_models"
    fixed_checkpoints = True
    base_config = "configs/infer.yaml"
    required_files = ("follow-your-emoji/lmk_guider.pth", "follow-your-emoji/referencenet.pth",
                      "follow-your-emoji/unet.pth", "sd-image-variations-diffusers/image_encoder", "sd-vae-ft-mse",
                      "AnimateDiff/mm_sd_v15_v2.ckpt")

    def template_path(self, job: Job) -> Path:
        return job.work_dir / "template" / "driving.npy"

    def prepare(self, job: Job, out_dir: Path) -> None:
        import yaml

        template = self.template_path(job)
        template.parent.mkdir(parents=True, exist_ok=True)
        self.run([str(self.settings.python), str(SHIMS / "fye_template.py"), str(job.per_face_driving()[0]),
                  str(template)], job, suffix=".template")
        source = self.settings.repo / self.base_config
        if not source.is_file():
            raise InputError(source, "Follow-Your-Emoji's config is missing", f"check {self.name}.repo")
        config = yaml.safe_load(source.read_text())
        config["video_length"] = job.frames
        (job.work_dir / "infer.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    def command(self, job: Job, out_dir: Path) -> list[str]:
        return [str(self.settings.python), "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1",
                "infer.py", "--config", str(job.work_dir / "infer.yaml"), "--input_path", str(job.portrait),
                "--lmk_path", str(self.template_path(job)), "--output_path", str(out_dir), "--seed", "42",
                *self.settings.extra_args]

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        expected = f"{self.template_path(job).stem}_{job.portrait.stem}_oo.mp4"
        return MethodOutput(self._single(job, out_dir, expected), frame_fps=job.fps,
                            notes=[f"frames are 1:1 with the driving clip; the file's 7 fps is replaced by {job.fps:g}"])


class FantasyPortraitOfficial(ExternalMethod):
    """Fantasy-AMAP/fantasy-portrait: ``infer.py`` (one face) or ``infer_multi.py`` with one video per face.

    Flags are the release scripts' (``fantasyportrait-model.md`` §10). It snaps the frame count down to
    4k+1 and rescales to 720 px; the harness holds the last frame and resizes back, and records both.
    Its multi-person masking is correct for two people only (§6.3), so items with more faces go through
    the crop-and-composite wrapper.
    """

    name = "fantasyportrait-official"
    version = "fantasyportrait-official-adapter-1"
    native_multi_face = True
    max_native_faces = 2
    default_checkpoints = "models"
    required_files = ("fantasyportrait_model.ckpt", "face_landmark.onnx", "face_det.onnx", "pd_fpg.pth",
                      "Wan2.1-I2V-14B-720P")

    def command(self, job: Job, out_dir: Path) -> list[str]:
        ck = self.settings.checkpoints
        driving = [str(p) for p in job.per_face_driving()]
        script = "infer.py" if job.n_faces == 1 else "infer_multi.py"
        argv = [str(self.settings.python), script,
                "--portrait_checkpoint", str(ck / "fantasyportrait_model.ckpt"),
                "--alignment_model_path", str(ck / "face_landmark.onnx"), "--det_model_path", str(ck / "face_det.onnx"),
                "--pd_fpg_model_path", str(ck / "pd_fpg.pth"), "--wan_model_path", str(ck / "Wan2.1-I2V-14B-720P"),
                "--output_path", str(out_dir), "--input_image_path", str(job.portrait),
                "--driven_video_path", *driving, "--prompt", "", "--scale_image", "True", "--max_size", "720",
                "--num_frames", str(job.frames), "--cfg_scale", "1.0", "--portrait_scale", "1.0",
                "--portrait_cfg_scale", "4.0", "--seed", "42"]
        if job.n_faces > 1:
            argv += ["--fps", f"{job.fps:g}"]
        return argv + self.settings.extra_args

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        return MethodOutput(self._single(job, out_dir, "*.mp4", exclude=("_with_audio.mp4",)))


class JobFileAdapter(ExternalMethod):
    """Any script speaking the job-file protocol (see the module docstring)."""

    version = "jobfile-1"
    config_keys = ExternalMethod.config_keys | {"kind", "script", "native_multi_face"}

    def __init__(self, name: str, table: dict[str, Any]) -> None:
        self.name = name
        if "script" not in table:
            raise InputError(table.get("__file__"), f"[{name}] script is not set",
                             f"set {name}.script to the shim that reads the job file")
        problem = path_problem(table["script"])  # the script runs with cwd = its folder: a relative path breaks
        if problem is not None:
            raise field_error(table.get("__file__"), name, "script", problem, table["script"])
        self.script = Path(table["script"]).expanduser()
        if not self.script.is_file():  # before the settings, whose repo defaults to the script's folder
            raise InputError(table.get("__file__"), f"[{name}] script = {self.script} does not exist",
                             f"set {name}.script to the shim that reads the job file")
        self.native_multi_face = table.get("native_multi_face", False)
        super().__init__({"repo": str(self.script.parent), **table})

    def command(self, job: Job, out_dir: Path) -> list[str]:
        data = {**job.to_json(), "output": str(out_dir / "output.mp4"), "result": str(out_dir / "result.json")}
        path = job.work_dir / "job.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        return [str(self.settings.python), str(self.script), str(path), *self.settings.extra_args]

    def find_output(self, job: Job, out_dir: Path) -> MethodOutput:
        result = out_dir / "result.json"
        where = f"{self.name} on {job.item_id}"
        if not result.is_file():
            raise MethodError(f"{where}: exited without writing its result file {result} (log: {self.log_path(job)})")
        try:
            data = json.loads(result.read_text())
        except json.JSONDecodeError as exc:
            raise MethodError(f"{where}: result file {result} is not JSON ({exc.msg})") from None
        if data.get("status") != "ok":
            raise MethodError(f"{where}: reported {data.get('status')!r}: {data.get('message', 'no message')}")
        output = Path(data.get("output", ""))
        if not output.is_file():
            raise MethodError(f"{where}: result names output {output}, which does not exist")
        return MethodOutput(output, frame_fps=data.get("frame_fps"), notes=list(data.get("notes", [])))
