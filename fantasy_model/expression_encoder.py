"""Expression-augmented encoder: 554-d PD-FGC features per frame -> 24 tokens per frame.

Token order per frame is [head pose, eye, emotion, mouth | 16 mouth-resampler | 4 emotion-resampler],
as in the release's `get_adapter_proj` (spec §3). Attribute names match the checkpoint's sub-dicts.
"""

from __future__ import annotations

import torch
from torch import nn

from fantasy_model.configs import (
    FEATURE_DIM,
    FEATURE_SPLIT,
    OFFICIAL_ADAPTER,
    AdapterConfig,
)
from fantasy_model.resampler import Resampler


class MultiProjModel(nn.Module):
    """One bias-free linear token per sub-feature, all normalised by one shared LayerNorm."""

    def __init__(self, cross_attention_dim: int) -> None:
        super().__init__()
        pose, eye, emo, mouth = FEATURE_SPLIT
        self.headpose_proj = nn.Linear(pose, cross_attention_dim, bias=False)
        self.eye_proj = nn.Linear(eye, cross_attention_dim, bias=False)
        self.emo_proj = nn.Linear(emo, cross_attention_dim, bias=False)
        self.mouth_proj = nn.Linear(mouth, cross_attention_dim, bias=False)
        self.norm = nn.LayerNorm(cross_attention_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """[B, F, 554] -> [B, F, 4, C]."""
        pose, eye, emo, mouth = torch.split(features, FEATURE_SPLIT, dim=-1)
        tokens = [
            self.norm(self.headpose_proj(pose)),
            self.norm(self.eye_proj(eye)),
            self.norm(self.emo_proj(emo)),
            self.norm(self.mouth_proj(mouth)),
        ]
        return torch.stack(tokens, dim=2)


class ExpressionEncoder(nn.Module):
    """The trainable encoder half of the FantasyPortrait adapter (the other half lives in each DiT block)."""

    def __init__(self, config: AdapterConfig = OFFICIAL_ADAPTER) -> None:
        super().__init__()
        if config.mouth.output_dim != config.context_dim or config.emo.output_dim != config.context_dim:
            raise ValueError("resampler output_dim must equal the adapter context_dim")
        self.config = config
        self.proj_model = MultiProjModel(config.context_dim)
        self.mouth_proj_model = Resampler(config.mouth)
        self.emo_proj_model = Resampler(config.emo)

    # diffusers pipelines query `.device` / `.dtype` on every registered component.
    @property
    def dtype(self) -> torch.dtype:
        return self.proj_model.norm.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.proj_model.norm.weight.device

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """[B, F, 554] PD-FGC features -> [B, F * tokens_per_frame, context_dim] expression tokens."""
        if features.shape[-1] != FEATURE_DIM:
            raise ValueError(f"expected {FEATURE_DIM}-d expression features, got {features.shape[-1]}")
        batch, frames, _ = features.shape
        _, _, emo, mouth = torch.split(features, FEATURE_SPLIT, dim=-1)
        # Each resampler sees a single input token per frame (the raw sub-feature), as in the release.
        mouth_tokens = self.mouth_proj_model(mouth.reshape(batch * frames, 1, -1))
        emo_tokens = self.emo_proj_model(emo.reshape(batch * frames, 1, -1))
        linear_tokens = self.proj_model(features)
        tokens = torch.cat(
            [
                linear_tokens,
                mouth_tokens.view(batch, frames, -1, self.config.context_dim),
                emo_tokens.view(batch, frames, -1, self.config.context_dim),
            ],
            dim=2,
        )
        return tokens.reshape(batch, frames * self.config.tokens_per_frame, self.config.context_dim)
