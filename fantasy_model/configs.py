"""Model dimensions for FantasyPortrait on Wan2.1-I2V-14B-720P, and tiny variants for CPU tests.

Kept in one place so the checkpoint loader, the meta-device shape checks and the memory
benchmark all agree on what "full size" means (spec §1, §3, §9.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FEATURE_SPLIT: tuple[int, int, int, int] = (6, 6, 30, 512)
"""Per-frame PD-FGC vector layout: head pose, eye, emotion, mouth (554 values, spec §2.6)."""
FEATURE_DIM: int = sum(FEATURE_SPLIT)
TEXT_TOKENS: int = 512
"""diffusers' Wan cross-attention assumes the last 512 context tokens are text (hard-coded there)."""


@dataclass(frozen=True)
class ResamplerConfig:
    """Perceiver resampler dimensions (IP-Adapter-Plus style)."""

    dim: int = 1280
    depth: int = 4
    dim_head: int = 64
    heads: int = 20
    num_queries: int = 16
    embedding_dim: int = 512
    output_dim: int = 2048
    ff_mult: int = 4


@dataclass(frozen=True)
class AdapterConfig:
    """Dimensions of the expression-augmented encoder and the per-block expression attention."""

    context_dim: int = 2048
    hidden_dim: int = 5120
    num_layers: int = 40
    mouth: ResamplerConfig = field(default_factory=lambda: ResamplerConfig(num_queries=16, embedding_dim=512))
    emo: ResamplerConfig = field(default_factory=lambda: ResamplerConfig(num_queries=4, embedding_dim=30))

    @property
    def tokens_per_frame(self) -> int:
        """4 linear tokens + mouth queries + emotion queries (24 for the release)."""
        return 4 + self.mouth.num_queries + self.emo.num_queries

    @property
    def tokens_per_latent_frame(self) -> int:
        """Window length per latent frame: 4 pixel frames of tokens plus one (97 for the release)."""
        return 4 * self.tokens_per_frame + 1


OFFICIAL_ADAPTER = AdapterConfig()

WAN_I2V_14B_720P: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 40,
    "attention_head_dim": 128,
    "in_channels": 36,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 13824,
    "num_layers": 40,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "image_dim": 1280,
    "added_kv_proj_dim": 5120,
    "rope_max_seq_len": 1024,
}
"""diffusers `WanTransformer3DModel` config of Wan-AI/Wan2.1-I2V-14B-720P-Diffusers."""


def tiny_transformer_config(num_layers: int = 2, heads: int = 2, head_dim: int = 16) -> dict[str, Any]:
    """A Wan I2V transformer small enough for CPU tests; same code path as the 14B model."""
    inner = heads * head_dim
    return {
        "patch_size": (1, 2, 2),
        "num_attention_heads": heads,
        "attention_head_dim": head_dim,
        "in_channels": 36,
        "out_channels": 16,
        "text_dim": 24,
        "freq_dim": 16,
        "ffn_dim": 2 * inner,
        "num_layers": num_layers,
        "cross_attn_norm": True,
        "qk_norm": "rms_norm_across_heads",
        "eps": 1e-6,
        "image_dim": 20,
        "added_kv_proj_dim": inner,
        "rope_max_seq_len": 64,
    }


def tiny_adapter_config(hidden_dim: int, num_layers: int, mouth_queries: int = 16, emo_queries: int = 4) -> AdapterConfig:
    """Small widths but the official token counts, so windowing and masking see real shapes."""
    resampler = ResamplerConfig(dim=32, depth=2, dim_head=8, heads=4, output_dim=24, ff_mult=2)
    return AdapterConfig(
        context_dim=24,
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        mouth=ResamplerConfig(**{**resampler.__dict__, "num_queries": mouth_queries, "embedding_dim": 512}),
        emo=ResamplerConfig(**{**resampler.__dict__, "num_queries": emo_queries, "embedding_dim": 30}),
    )
