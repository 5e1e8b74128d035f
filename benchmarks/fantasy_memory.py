"""Resident accelerator parameter bytes per memory mode for Wan2.1-I2V-14B-720P + FantasyPortrait.

Everything is built on the meta device (no weights, no GPU); bytes follow the dtypes a GPU run
loads (transformer, umT5 and the adapter's k/v projections in bf16; CLIP and the VAE in fp32, as
diffusers recommends; the expression encoder in fp32, as the release runs it) and diffusers' offload grouping, via `fantasy_model.memory.resident_parameter_bytes`.
Activations, the CUDA context and allocator overhead are not included.

    python benchmarks/fantasy_memory.py
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch

import fantasy_model  # noqa: F401  (installs the torchvision shim before diffusers is imported)
from fantasy_model.configs import OFFICIAL_ADAPTER, WAN_I2V_14B_720P
from fantasy_model.expression_attention import install_expression_attention
from fantasy_model.expression_encoder import ExpressionEncoder
from fantasy_model.memory import (
    OFFLOAD_MODES,
    peak_resident_bytes,
    resident_bytes_per_component,
)

UMT5_XXL = dict(
    vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    feed_forward_proj="gated-gelu", relative_attention_num_buckets=32, tie_word_embeddings=False,
)
CLIP_VIT_H_14 = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16, image_size=224, patch_size=14, projection_dim=1024)


def build_components() -> dict[str, torch.nn.Module]:
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from transformers import (
        CLIPVisionConfig,
        CLIPVisionModel,
        UMT5Config,
        UMT5EncoderModel,
    )

    with torch.device("meta"):
        transformer = WanTransformer3DModel(**WAN_I2V_14B_720P)
        install_expression_attention(transformer, OFFICIAL_ADAPTER.context_dim)
        return {
            "text_encoder": UMT5EncoderModel(UMT5Config(**UMT5_XXL)),
            "image_encoder": CLIPVisionModel(CLIPVisionConfig(**CLIP_VIT_H_14)),
            "expression_encoder": ExpressionEncoder(OFFICIAL_ADAPTER),
            "transformer": transformer,
            "vae": AutoencoderKLWan(),
        }


DTYPES = {
    "text_encoder": torch.bfloat16,
    "image_encoder": torch.float32,
    "expression_encoder": torch.float32,  # the release never casts its PortraitAdapter
    "transformer": torch.bfloat16,
    "vae": torch.float32,
}


def gib(n: int) -> str:
    return f"{n / 2**30:8.2f}"


def main() -> None:
    components = build_components()
    print("Parameter counts (meta device):")
    for name, module in components.items():
        print(f"  {name:<19} {sum(p.numel() for p in module.parameters()) / 1e6:10.2f} M")
    ip = sum(p.numel() for n, p in components["transformer"].named_parameters() if "ip_adapter_single_stream" in n)
    encoder = sum(p.numel() for p in components["expression_encoder"].parameters())
    print(f"  FantasyPortrait adapter: ip k/v {ip / 1e6:.2f} M + encoder {encoder / 1e6:.2f} M = {(ip + encoder) / 1e9:.3f} B")
    print()
    print("Peak resident parameter GiB on the accelerator (weights only; no activations, CUDA context or")
    print("allocator overhead). 'transformer' = DiT incl. expression k/v while it denoises; 'pipeline' = peak")
    print("over the whole run (all components in mode none, else the largest single component).")
    print(f"  {'mode':<24}{'transformer bf16':>17}{'fp8':>8}{'pipeline bf16':>15}{'fp8':>8}  pipeline peak set by")
    for mode in OFFLOAD_MODES:
        for prefetch in (True, False) if mode in ("group_offload", "sequential") else (True,):
            label = mode if mode in ("none", "model_cpu_offload") else f"{mode} ({'stream' if prefetch else 'no stream'})"
            bf16 = resident_bytes_per_component(components, mode, DTYPES, fp8_transformer=False, prefetch=prefetch)
            fp8 = resident_bytes_per_component(components, mode, DTYPES, fp8_transformer=True, prefetch=prefetch)
            peak_by = "all" if mode == "none" else max(bf16, key=bf16.get)
            print(
                f"  {label:<24}{gib(bf16['transformer']):>17}{gib(fp8['transformer']):>8}"
                f"{gib(peak_resident_bytes(bf16, mode)):>15}{gib(peak_resident_bytes(fp8, mode)):>8}  {peak_by}"
            )


if __name__ == "__main__":
    main()
