"""Building the full FantasyPortrait pipeline from local files (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import torch

from fantasy_model.checkpoint import load_adapter_weights
from fantasy_model.configs import OFFICIAL_ADAPTER
from fantasy_model.expression_attention import install_expression_attention
from fantasy_model.expression_encoder import ExpressionEncoder


def load_pipeline(wan_dir: str | Path, adapter_path: str | Path, dtype: torch.dtype = torch.bfloat16):
    """Wan2.1-I2V-14B-720P in diffusers layout + the FantasyPortrait adapter, all on the CPU.

    `wan_dir` is a local copy of `Wan-AI/Wan2.1-I2V-14B-720P-Diffusers` (subfolders transformer,
    vae, text_encoder, tokenizer, image_encoder, image_processor). The VAE and CLIP stay in fp32
    as diffusers recommends for Wan, and the expression encoder in fp32 as the release runs it (its
    `PortraitAdapter` is never cast); use `fantasy_model.memory.configure_memory` to place it.
    Returns (pipeline, PD-FGC tensors bundled in a flat safetensors adapter file, or {}).
    """
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanTransformer3DModel,
    )
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessor,
        CLIPVisionModel,
        UMT5EncoderModel,
    )

    from fantasy_model.pipeline import FantasyPortraitPipeline

    wan_dir = Path(wan_dir)
    if not (wan_dir / "transformer").is_dir():
        raise FileNotFoundError(
            f"{wan_dir}: not a diffusers Wan2.1 I2V directory (no transformer/ subfolder); download "
            "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers and pass its local path"
        )
    transformer = WanTransformer3DModel.from_pretrained(wan_dir, subfolder="transformer", torch_dtype=dtype)
    install_expression_attention(transformer, OFFICIAL_ADAPTER.context_dim)
    encoder = ExpressionEncoder(OFFICIAL_ADAPTER)
    pd_fgc = load_adapter_weights(adapter_path, encoder, transformer)
    pipe = FantasyPortraitPipeline(
        tokenizer=AutoTokenizer.from_pretrained(wan_dir, subfolder="tokenizer"),
        text_encoder=UMT5EncoderModel.from_pretrained(wan_dir, subfolder="text_encoder", torch_dtype=dtype),
        vae=AutoencoderKLWan.from_pretrained(wan_dir, subfolder="vae", torch_dtype=torch.float32),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        transformer=transformer.eval(),
        expression_encoder=encoder.eval(),
        image_processor=CLIPImageProcessor.from_pretrained(wan_dir, subfolder="image_processor"),
        image_encoder=CLIPVisionModel.from_pretrained(wan_dir, subfolder="image_encoder", torch_dtype=torch.float32),
    )
    return pipe, pd_fgc
