"""``fantasyportrait``: the project's own FantasyPortrait re-implementation (``fantasy_model``), in process.

Unlike the external adapters it runs in the toolkit's interpreter: ``fantasy_model`` is project code
with the toolkit's pins. It needs a CUDA GPU and local weights, configured in the methods config::

    [fantasyportrait]
    checkpoints = "/models/FantasyPortrait"      # fantasyportrait_model.ckpt, face_det.onnx, face_landmark.onnx, pd_fpg.pth
    wan_dir = "/models/Wan2.1-I2V-14B-720P-Diffusers"
    offload = "model_cpu_offload"                # optional, fantasy_model.memory modes
    fp8 = false                                  # optional

The model is imported and loaded on the first item only (minutes for 14B weights) and reused. Faces are
given explicitly (the item's boxes, left to right), with one driving video per face; the native
per-person masking is used for any number of faces (``fantasyportrait-model.md`` §6.4 semantics).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from baselines.job import Job, MethodOutput
from exprbench.errors import InputError
from exprbench.video import VideoWriter, load_image, read_video

REQUIRED = ["fantasyportrait_model.ckpt", "face_det.onnx", "face_landmark.onnx", "pd_fpg.pth"]


class FantasyPortraitAdapter:
    name = "fantasyportrait"
    version = "fantasyportrait-inprocess-1"
    native_multi_face = True
    max_native_faces = None
    needs_face_crop = False
    config_keys = frozenset({"checkpoints", "wan_dir", "offload", "fp8"})  # the methods-config keys it reads

    def __init__(self, table: dict[str, Any]) -> None:
        where = table.get("__file__")

        def path(key: str, what: str) -> Path:
            if key not in table:
                raise InputError(where, f"[fantasyportrait] {key} is not set", f"set fantasyportrait.{key} to {what}")
            value = Path(str(table[key])).expanduser()
            if not value.is_dir():
                raise InputError(where, f"[fantasyportrait] {key} = {value} is not a directory",
                                 f"set fantasyportrait.{key} to {what}")
            return value

        self.model_dir = path("checkpoints", "the acvlab/FantasyPortrait download")
        self.wan_dir = path("wan_dir", "the Wan2.1-I2V-14B-720P diffusers download")
        for rel in REQUIRED:
            if not (self.model_dir / rel).is_file():
                raise InputError(self.model_dir / rel, "FantasyPortrait weight file is missing",
                                 "download acvlab/FantasyPortrait there or fix fantasyportrait.checkpoints")
        from fantasy_model.memory import OFFLOAD_MODES

        self.offload = table.get("offload", "model_cpu_offload")
        if self.offload not in OFFLOAD_MODES:
            raise InputError(where, f"fantasyportrait.offload must be one of {', '.join(OFFLOAD_MODES)}, "
                                    f"got {self.offload!r}")
        self.fp8 = table.get("fp8", False)
        self._model = None

    def config(self) -> dict[str, Any]:
        return {"checkpoints": str(self.model_dir), "wan_dir": str(self.wan_dir), "offload": self.offload,
                "fp8": self.fp8}

    def _load(self):
        if self._model is None:
            import torch

            if not torch.cuda.is_available():
                raise InputError(None, "the fantasyportrait method needs a CUDA GPU and none is available",
                                 "run it on a GPU machine, or use warp/static here")
            from fantasy_model.generate import FantasyPortrait, ModelPaths

            paths = ModelPaths.from_model_dir(self.wan_dir, self.model_dir)
            self._model = FantasyPortrait(paths, device="cuda", offload=self.offload, fp8=self.fp8)
        return self._model

    def generate(self, job: Job) -> MethodOutput:
        from fantasy_model.generate import GenerationOptions, animate

        model = self._load()
        videos = [read_video(p) for p in job.per_face_driving()]
        frames = animate(load_image(job.portrait), videos, [tuple(b) for b in job.faces], job.fps, job.frames,
                         model=model, options=GenerationOptions(seed=42 + job.seed))
        path = job.work_dir / "fantasyportrait.mp4"
        with VideoWriter(path, job.fps) as writer:
            writer.write(frames)
        return MethodOutput(path)
