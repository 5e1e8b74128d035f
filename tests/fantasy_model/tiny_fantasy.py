"""Builders of tiny, randomly initialised FantasyPortrait components (a plain module: test folders are not
packages, so helpers must not live in conftest.py, whose module name every test folder shares)."""

from __future__ import annotations

import torch

from fantasy_model.configs import tiny_adapter_config, tiny_transformer_config
from fantasy_model.expression_attention import install_expression_attention
from fantasy_model.expression_encoder import ExpressionEncoder


def build_tiny_transformer(num_layers: int = 2, seed: int = 0):
    from diffusers import WanTransformer3DModel

    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(**tiny_transformer_config(num_layers=num_layers)).eval()
    return transformer


def randomise_ip_projections(transformer, seed: int = 1, std: float = 0.3) -> None:
    """Released projections are zero-initialised; tests need them non-zero to see any effect."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for block in transformer.blocks:
            for proj in (block.attn2.processor.ip_adapter_single_stream_k_proj, block.attn2.processor.ip_adapter_single_stream_v_proj):
                proj.weight.copy_(torch.randn(proj.weight.shape, generator=generator) * std)


def build_tiny_adapter(num_layers: int = 2, seed: int = 0):
    """(transformer with expression attention, encoder, adapter config), random weights."""
    transformer = build_tiny_transformer(num_layers, seed)
    hidden = transformer.config.num_attention_heads * transformer.config.attention_head_dim
    config = tiny_adapter_config(hidden_dim=hidden, num_layers=num_layers)
    install_expression_attention(transformer, config.context_dim)
    randomise_ip_projections(transformer, seed + 1)
    torch.manual_seed(seed + 2)
    encoder = ExpressionEncoder(config).eval()
    return transformer, encoder, config


def build_tiny_pipeline(seed: int = 0):
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    from fantasy_model.pipeline import FantasyPortraitPipeline

    transformer, encoder, _ = build_tiny_adapter(seed=seed)
    torch.manual_seed(seed + 3)
    vae = AutoencoderKLWan(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]).eval()
    image_encoder = CLIPVisionModel(
        CLIPVisionConfig(hidden_size=20, intermediate_size=40, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=16)
    ).eval()
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return FantasyPortraitPipeline(
        tokenizer=None,
        text_encoder=None,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        transformer=transformer,
        expression_encoder=encoder,
        image_processor=processor,
        image_encoder=image_encoder,
    )



def flat_adapter_state(transformer, encoder) -> dict[str, torch.Tensor]:
    """The flat-layout tensors of a model's adapter (what a real checkpoint would hold)."""
    from fantasy_model.checkpoint import ENCODER_PARTS, ip_key

    state = {}
    for part in ENCODER_PARTS:
        for key, tensor in getattr(encoder, part).state_dict().items():
            state[f"{part}.{key}"] = tensor.clone()
    for layer, block in enumerate(transformer.blocks):
        processor = block.attn2.processor
        state[ip_key(layer, "k")] = processor.ip_adapter_single_stream_k_proj.weight.detach().clone()
        state[ip_key(layer, "v")] = processor.ip_adapter_single_stream_v_proj.weight.detach().clone()
    return state
