"""`FantasyPortraitPipeline`: diffusers' Wan2.1 image-to-video pipeline plus expression conditioning.

It reuses `WanImageToVideoPipeline`'s prompt/image encoding, latent preparation and decoding, and
replaces only the denoising loop, which needs up to three DiT passes per step with different
expression inputs (spec §7). Components are registered normally, so diffusers' model CPU offload
and group offload manage them; nothing here calls `.to(device)` on a managed module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import PIL.Image
import torch
from diffusers import (
    AutoencoderKLWan,
    FlowMatchEulerDiscreteScheduler,
    WanImageToVideoPipeline,
    WanTransformer3DModel,
)
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.utils.torch_utils import get_module_execution_device
from diffusers.video_processor import VideoProcessor

from fantasy_model.configs import TEXT_TOKENS
from fantasy_model.expression_attention import ExpressionInputs, expression_state
from fantasy_model.expression_encoder import ExpressionEncoder
from fantasy_model.guidance import combine, plan_guidance
from fantasy_model.masking import Background, Box, MaskMode, build_expression_inputs
from fantasy_model.windowing import (
    latent_frame_count,
    round_down_to_4k1,
    split_into_windows,
)

WAN_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
    "丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，"
    "杂乱的背景，三条腿，背景人很多，倒着走"
)
"""The standard Wan negative prompt."""
STATIC_PERSON_PHRASE = "人物静止不动，静止，"
"""("the person stands still, still,"): the release starts its negative prompt with it (`infer.py`)."""
TALKING_PHRASE = "人物嘴巴不停地说话，"
"""("the person's mouth keeps talking,"): the multi-person negative prompt starts with it (`infer_multi.py`)."""
DEFAULT_NEGATIVE_PROMPT = STATIC_PERSON_PHRASE + WAN_NEGATIVE_PROMPT
MULTI_PERSON_NEGATIVE_PROMPT = TALKING_PHRASE + DEFAULT_NEGATIVE_PROMPT


def negative_prompt_for(people: int) -> str:
    """The release's negative prompt for one or several people; used only with text guidance (cfg != 1)."""
    return MULTI_PERSON_NEGATIVE_PROMPT if people > 1 else DEFAULT_NEGATIVE_PROMPT


def official_sigmas(num_steps: int) -> np.ndarray:
    """Unshifted sigmas linspace(1, 0, steps+1)[:-1] (sigma_min 0, extra_one_step); the scheduler shifts them."""
    return np.linspace(1.0, 0.0, num_steps + 1)[:-1]


def seeded_generator(seed: int) -> torch.Generator:
    """Noise is drawn on the CPU, as in the release, so a seed gives the same video on any device."""
    return torch.Generator("cpu").manual_seed(seed)


@dataclass
class FantasyPortraitOutput:
    frames: np.ndarray | torch.Tensor
    face_regions: list[tuple[int, int, int, int]]


class FantasyPortraitPipeline(WanImageToVideoPipeline):
    """Wan2.1 I2V with FantasyPortrait expression attention; see `__call__`."""

    model_cpu_offload_seq = "text_encoder->image_encoder->expression_encoder->transformer->vae"
    _optional_components = ["text_encoder", "tokenizer", "image_encoder", "image_processor"]

    def __init__(
        self,
        tokenizer,
        text_encoder,
        vae: AutoencoderKLWan,
        scheduler: FlowMatchEulerDiscreteScheduler,
        transformer: WanTransformer3DModel,
        expression_encoder: ExpressionEncoder,
        image_processor=None,
        image_encoder=None,
        boundary_ratio: None = None,
        expand_timesteps: bool = False,
    ) -> None:
        # boundary_ratio / expand_timesteps exist only because the inherited Wan helpers read them
        # from the config; FantasyPortrait is Wan2.1 (one transformer, no expanded timesteps).
        if boundary_ratio is not None or expand_timesteps:
            raise ValueError("FantasyPortrait runs on Wan2.1 I2V: boundary_ratio must be None, expand_timesteps False")
        DiffusionPipeline.__init__(self)
        self.register_modules(
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            image_encoder=image_encoder,
            transformer=transformer,
            expression_encoder=expression_encoder,
            scheduler=scheduler,
            image_processor=image_processor,
        )
        self.register_to_config(boundary_ratio=None, expand_timesteps=False)
        self.transformer_2 = None
        self.vae_scale_factor_temporal = vae.config.scale_factor_temporal
        self.vae_scale_factor_spatial = vae.config.scale_factor_spatial
        self.video_processor = VideoProcessor(vae_scale_factor=self.vae_scale_factor_spatial)

    def expression_windows(self, features: torch.Tensor, num_frames: int, device: torch.device) -> torch.Tensor:
        """[F, 554] features of one person -> [1, T_lat, 97, C] windowed tokens."""
        encoder = self.expression_encoder
        tokens = encoder(features[:num_frames][None].to(device=device, dtype=encoder.dtype))
        return split_into_windows(tokens, num_frames, encoder.config.tokens_per_frame)

    def _denoise_pass(
        self,
        latent_input: torch.Tensor,
        timestep: torch.Tensor,
        text: torch.Tensor,
        image_embeds: torch.Tensor | None,
        expression: ExpressionInputs | None,
    ) -> torch.Tensor:
        with expression_state(self.transformer).use(expression):
            return self.transformer(
                hidden_states=latent_input,
                timestep=timestep,
                encoder_hidden_states=text,
                encoder_hidden_states_image=image_embeds,
                return_dict=False,
            )[0]

    @torch.no_grad()
    def __call__(
        self,
        image: PIL.Image.Image,
        expression_features: Sequence[torch.Tensor],
        face_boxes: Sequence[Box],
        driving_boxes: Sequence[Sequence[Box]],
        *,
        num_frames: int | None = None,
        prompt: str = "",
        negative_prompt: str | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        image_embeds: torch.Tensor | None = None,
        num_inference_steps: int = 30,
        shift: float = 5.0,
        guidance_scale: float = 1.0,
        expression_guidance_scale: float = 4.0,
        ip_scale: float = 1.0,
        mask_mode: MaskMode = "per_person",
        background: Background = "all",
        generator: torch.Generator | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "np",
    ) -> FantasyPortraitOutput:
        """Animate `image` (already at the output size, multiples of 16) with one feature track per face.

        expression_features[i] ([F_i, 554]) drives face_boxes[i]; driving_boxes[i] are that person's
        per-frame face boxes in the driving video (they enlarge the face region as in the release).
        The clip length is min(F_i) (or `num_frames`) rounded down to 4k+1.
        `image_embeds` lets a caller keep the CLIP identity embedding of the original portrait while
        `image` is a continuation frame (sliding-window mode). `negative_prompt` None picks the
        release's prompt for the number of people (`negative_prompt_for`).
        """
        width, height = image.size
        if height % 16 or width % 16:
            raise ValueError(f"image size {width}x{height} must be a multiple of 16; resize it first")
        if not expression_features:
            raise ValueError("at least one expression feature track is required")
        available = min(int(f.shape[0]) for f in expression_features)
        num_frames = round_down_to_4k1(min(available, num_frames or available))
        plan = plan_guidance(expression_guidance_scale, guidance_scale)
        device = self._execution_device
        if negative_prompt is None:
            negative_prompt = negative_prompt_for(len(expression_features))

        if self.scheduler.config.shift != shift:
            self.scheduler = FlowMatchEulerDiscreteScheduler.from_config(self.scheduler.config, shift=shift)
        self.scheduler.set_timesteps(sigmas=official_sigmas(num_inference_steps), device=device)

        transformer_dtype = self.transformer.dtype
        prompt_embeds, negative_prompt_embeds = self.encode_prompt(
            prompt=None if prompt_embeds is not None else prompt,
            negative_prompt=None if negative_prompt_embeds is not None else negative_prompt,
            do_classifier_free_guidance=plan.text,
            prompt_embeds=prompt_embeds,
            negative_prompt_embeds=negative_prompt_embeds,
            max_sequence_length=TEXT_TOKENS,
            device=device,
        )
        prompt_embeds = prompt_embeds.to(device, transformer_dtype)
        if plan.text:
            negative_prompt_embeds = negative_prompt_embeds.to(device, transformer_dtype)
        if image_embeds is None:
            image_embeds = self.encode_image(image, device)
        image_embeds = image_embeds.to(device, transformer_dtype)

        windows = [self.expression_windows(f, num_frames, device) for f in expression_features]
        expression, regions = build_expression_inputs(
            windows, face_boxes, driving_boxes, width, height, mode=mask_mode, background=background
        )
        expression.scale = ip_scale

        image_tensor = self.video_processor.preprocess(image, height=height, width=width).to(device, torch.float32)
        latents, condition = self.prepare_latents(
            image_tensor, 1, self.vae.config.z_dim, height, width, num_frames, torch.float32, device, generator, latents
        )
        if latents.shape[2] != latent_frame_count(num_frames):
            raise ValueError(f"latents have {latents.shape[2]} frames, expected {latent_frame_count(num_frames)}")
        self.offload_vae()

        timesteps = self.scheduler.timesteps
        self._num_timesteps = len(timesteps)
        with self.progress_bar(total=len(timesteps)) as progress:
            for t in timesteps:
                latent_input = torch.cat([latents, condition], dim=1).to(transformer_dtype)
                timestep = t.expand(1)
                full = self._denoise_pass(latent_input, timestep, prompt_embeds, image_embeds, expression)
                no_expression = unconditional = None
                if plan.expression:
                    no_expression = self._denoise_pass(latent_input, timestep, prompt_embeds, image_embeds, None)
                if plan.text:
                    # With expression guidance the release runs the negative pass with ip_scale = 0.
                    negative_expression = None if plan.expression else expression
                    unconditional = self._denoise_pass(
                        latent_input, timestep, negative_prompt_embeds, image_embeds, negative_expression
                    )
                velocity = combine(full, no_expression, unconditional, expression_guidance_scale, guidance_scale)
                latents = self.scheduler.step(velocity.float(), t, latents, return_dict=False)[0]
                progress.update()

        if output_type == "latent":
            frames = latents
        else:
            frames = self.decode_latents(latents, output_type)
        self.maybe_free_model_hooks()
        return FantasyPortraitOutput(frames=frames, face_regions=regions)

    def offload_vae(self) -> bool:
        """Under model CPU offload, move the VAE back to the CPU after encoding the first frame.

        diffusers' hooks offload a model only when the *next* model in `model_cpu_offload_seq` runs;
        the VAE is last in the sequence, so after `prepare_latents` it would stay on the accelerator
        through the whole denoising loop (about 0.5 GiB that the memory accounting does not count).
        Its hook loads it again for decoding. Returns whether a hook was found.
        """
        for hook in getattr(self, "_all_hooks", None) or []:
            if getattr(hook, "model", None) is self.vae:
                hook.offload()
                return True
        return False

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor, output_type: str = "np"):
        """Undo Wan's latent normalisation and decode with the (optionally tiled) VAE."""
        vae_device = get_module_execution_device(self.vae)
        latents = latents.to(device=vae_device, dtype=self.vae.dtype)
        mean = torch.tensor(self.vae.config.latents_mean).view(1, -1, 1, 1, 1).to(latents)
        std = torch.tensor(self.vae.config.latents_std).view(1, -1, 1, 1, 1).to(latents)
        video = self.vae.decode(latents * std + mean, return_dict=False)[0]
        return self.video_processor.postprocess_video(video, output_type=output_type)
