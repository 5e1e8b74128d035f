"""FantasyPortrait pipelines with random weights, built on the meta device and materialised on a device.

Why: memory and time per denoising step do not depend on the weights' values, so the full-size model
(Wan2.1-I2V-14B + adapter) can be measured on a GPU without a 60 GB checkpoint. Building it the usual
way would first allocate 57 GB of float32 on the host and initialise it there; instead every module is
constructed on ``meta`` (no memory), cast to its run dtype there, then allocated once on the target
device and filled in place (``materialise``). The tiny size is the same code path with the test
widths of ``fantasy_model.configs``, so CPU tests exercise it.

The text encoder (umT5-XXL) is not built: callers pass ``prompt_embeds`` (the release's empty prompt
is constant, so its embedding could be cached); the figures therefore exclude it.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Size = Literal["tiny", "full"]

CLIP_VIT_H_14 = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16,
                     image_size=224, patch_size=14, projection_dim=1024)
"""open-clip XLM-R ViT-H/14's vision tower as a transformers CLIPVisionConfig (Wan2.1 I2V image encoder)."""
CLIP_TINY = dict(hidden_size=20, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2, image_size=32,
                 patch_size=16)
VAE_TINY = dict(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True])


def materialise(module: nn.Module, device: str | torch.device, dtype: torch.dtype, seed: int = 0) -> nn.Module:
    """Allocate a meta-device ``module`` on ``device`` in ``dtype`` and fill it with random weights.

    Parameters named in the module's ``_keep_in_fp32_modules`` stay float32 (diffusers' loading rule);
    matrices get N(0, 0.02), vectors named ``bias`` zeros, other vectors (norm scales) ones. Buffers
    are recomputed by the caller (Wan's RoPE tables: ``_rebuild_rope``), since ``to_empty`` leaves them
    uninitialised.
    """
    keep = set(getattr(module, "_keep_in_fp32_modules", None) or ())
    for name, param in module.named_parameters():  # on meta: free (and without ModelMixin.to's dtype warning)
        param.data = param.data.to(torch.float32 if keep & set(name.split(".")) else dtype)
    module.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.ndim >= 2:
                param.normal_(0.0, 0.02, generator=generator)
            elif name.endswith("bias"):
                param.zero_()
            else:
                param.fill_(1.0)
    return module.eval().requires_grad_(False)


def _rebuild_rope(transformer: nn.Module, device: str | torch.device) -> None:
    """Wan's rotary tables are float32 buffers computed at construction: compute them again on ``device``."""
    from diffusers.models.transformers.transformer_wan import WanRotaryPosEmbed

    cfg = transformer.config
    transformer.rope = WanRotaryPosEmbed(cfg.attention_head_dim, cfg.patch_size, cfg.rope_max_seq_len).to(device)


def build_random_transformer(size: Size = "tiny", device: str | torch.device = "cpu",
                             dtype: torch.dtype = torch.float32, seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """(Wan I2V transformer with expression attention, expression encoder), random, on ``device``.

    The expression encoder stays float32, as the release runs its PortraitAdapter.
    """
    import fantasy_model  # noqa: F401  (torchvision shim before diffusers)
    from diffusers import WanTransformer3DModel

    from fantasy_model.configs import OFFICIAL_ADAPTER, WAN_I2V_14B_720P, tiny_adapter_config, tiny_transformer_config
    from fantasy_model.expression_attention import install_expression_attention
    from fantasy_model.expression_encoder import ExpressionEncoder

    config = WAN_I2V_14B_720P if size == "full" else tiny_transformer_config()
    with torch.device("meta"):
        transformer = WanTransformer3DModel(**config)
        hidden = transformer.config.num_attention_heads * transformer.config.attention_head_dim
        adapter = OFFICIAL_ADAPTER if size == "full" else tiny_adapter_config(hidden, transformer.config.num_layers)
        install_expression_attention(transformer, adapter.context_dim)
        encoder = ExpressionEncoder(adapter)
    materialise(transformer, device, dtype, seed)
    _rebuild_rope(transformer, device)
    materialise(encoder, device, torch.float32, seed + 1)
    return transformer, encoder


def build_random_pipeline(size: Size = "tiny", device: str | torch.device = "cpu",
                          dtype: torch.dtype = torch.float32, seed: int = 0):
    """A ``FantasyPortraitPipeline`` of random weights on ``device``: transformer in ``dtype``; CLIP, VAE and
    expression encoder in float32 (diffusers' recommendation for Wan's VAE and image encoder)."""
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    from fantasy_model.pipeline import FantasyPortraitPipeline

    transformer, encoder = build_random_transformer(size, device, dtype, seed)
    with torch.device("meta"):
        vae = AutoencoderKLWan() if size == "full" else AutoencoderKLWan(**VAE_TINY)
        image_encoder = CLIPVisionModel(CLIPVisionConfig(**(CLIP_VIT_H_14 if size == "full" else CLIP_TINY)))
    materialise(vae, device, torch.float32, seed + 2)
    materialise(image_encoder, device, torch.float32, seed + 3)
    _rebuild_clip_buffers(image_encoder, device)
    crop = 224 if size == "full" else 32
    processor = CLIPImageProcessor(size={"shortest_edge": crop}, crop_size={"height": crop, "width": crop})
    return FantasyPortraitPipeline(tokenizer=None, text_encoder=None, vae=vae,
                                   scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0), transformer=transformer,
                                   expression_encoder=encoder, image_processor=processor, image_encoder=image_encoder)


def _rebuild_clip_buffers(image_encoder: nn.Module, device: str | torch.device) -> None:
    """CLIP's vision embeddings keep ``position_ids`` (0..n-1) as a buffer: set it again after ``to_empty``."""
    for module in image_encoder.modules():
        ids = getattr(module, "position_ids", None)
        if isinstance(ids, torch.Tensor):
            module.position_ids = torch.arange(ids.shape[-1], device=device).expand(ids.shape)
