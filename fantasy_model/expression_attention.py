"""Expression attention: decoupled IP-Adapter-style cross-attention added to every Wan cross-attention.

diffusers' Wan blocks call `attn2(x, context)` without extra arguments, so the per-call expression
tokens, mask and scale travel through an `ExpressionState` object that all processors share and
that `FantasyPortraitTransformer`-level code sets around each DiT pass (`expression_state.use(...)`).
The processor is an `nn.Module`, so its projections are registered under
`blocks.{i}.attn2.processor.ip_adapter_single_stream_{k,v}_proj` and move with the block under
group offload (spec §5).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from diffusers.models.attention_dispatch import dispatch_attention_fn
from diffusers.models.transformers.transformer_wan import (
    WanAttention,
    WanTransformer3DModel,
    _get_added_kv_projections,
    _get_qkv_projections,
)
from torch import nn

from fantasy_model.configs import TEXT_TOKENS


@dataclass
class ExpressionInputs:
    """What one DiT pass needs for expression attention.

    tokens: [B, T_lat, K, context_dim] windowed expression tokens (K = 97 x persons).
    attend: optional bool [T_lat, L_frame, K], True where a video token may attend an expression token.
    row_gate: optional [T_lat, L_frame] multiplier on the expression output (0 silences background rows).
    scale: `ip_scale`; 0 turns the branch off exactly.
    """

    tokens: torch.Tensor
    attend: torch.Tensor | None = None
    row_gate: torch.Tensor | None = None
    scale: float = 1.0


class ExpressionState:
    """Shared, per-pass slot read by every `ExpressionAttnProcessor` of one transformer."""

    def __init__(self) -> None:
        self.inputs: ExpressionInputs | None = None

    @contextmanager
    def use(self, inputs: ExpressionInputs | None) -> Iterator[None]:
        """Make `inputs` visible to the processors for the duration of one transformer call."""
        previous, self.inputs = self.inputs, inputs
        try:
            yield
        finally:
            self.inputs = previous


class ExpressionAttnProcessor(nn.Module):
    """Wan I2V cross-attention (text + CLIP image) plus the expression branch on the same query."""

    _attention_backend = None
    _parallel_config = None

    def __init__(self, context_dim: int, hidden_dim: int, state: ExpressionState) -> None:
        super().__init__()
        self.ip_adapter_single_stream_k_proj = nn.Linear(context_dim, hidden_dim, bias=False)
        self.ip_adapter_single_stream_v_proj = nn.Linear(context_dim, hidden_dim, bias=False)
        # Zero init as released: an untrained adapter leaves the base model's output unchanged.
        nn.init.zeros_(self.ip_adapter_single_stream_k_proj.weight)
        nn.init.zeros_(self.ip_adapter_single_stream_v_proj.weight)
        self._state = [state]  # a list keeps the plain object out of nn.Module attribute handling

    @property
    def state(self) -> ExpressionState:
        return self._state[0]

    def _attend(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out = dispatch_attention_fn(
            query, key, value, attn_mask=mask, dropout_p=0.0, is_causal=False, backend=self._attention_backend
        )
        return out.flatten(2, 3).type_as(query)

    def expression_branch(self, attn: WanAttention, query: torch.Tensor, inputs: ExpressionInputs) -> torch.Tensor:
        """query: [B, L, H, D] (normed, shared with the text branch) -> [B, L, H*D]."""
        batch, length, heads, head_dim = query.shape
        # The compute dtype is the query's: under layerwise casting (fp8 storage) the projection
        # weights are stored in float8 and upcast by a hook, so their storage dtype is not a valid
        # input dtype for `F.linear`.
        tokens = inputs.tokens.to(device=query.device, dtype=query.dtype)
        if tokens.shape[0] != batch:
            tokens = tokens.expand(batch, -1, -1, -1)
        frames, num_tokens = tokens.shape[1], tokens.shape[2]
        if length % frames:
            raise ValueError(f"{length} video tokens cannot be split into {frames} latent frames")
        per_frame = length // frames
        q = query.reshape(batch * frames, per_frame, heads, head_dim)
        k = self.ip_adapter_single_stream_k_proj(tokens).reshape(batch * frames, num_tokens, heads, head_dim)
        v = self.ip_adapter_single_stream_v_proj(tokens).reshape(batch * frames, num_tokens, heads, head_dim)
        mask = None
        if inputs.attend is not None:
            mask = inputs.attend.to(query.device).unsqueeze(1).repeat(batch, 1, 1, 1)  # [B*T, 1, Lf, K]
        out = self._attend(q, k, v, mask).reshape(batch, frames, per_frame, heads * head_dim)
        if inputs.row_gate is not None:
            out = out * inputs.row_gate.to(out.device, out.dtype)[None, :, :, None]
        return out.reshape(batch, length, heads * head_dim)

    def __call__(
        self,
        attn: WanAttention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        rotary_emb: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        image_context_length = encoder_hidden_states.shape[1] - TEXT_TOKENS
        context_img = encoder_hidden_states[:, :image_context_length]
        context_txt = encoder_hidden_states[:, image_context_length:]

        query, key, value = _get_qkv_projections(attn, hidden_states, context_txt)
        query = attn.norm_q(query).unflatten(2, (attn.heads, -1))
        key = attn.norm_k(key).unflatten(2, (attn.heads, -1))
        value = value.unflatten(2, (attn.heads, -1))
        out = self._attend(query, key, value, attention_mask)

        if attn.add_k_proj is not None and image_context_length > 0:
            key_img, value_img = _get_added_kv_projections(attn, context_img)
            key_img = attn.norm_added_k(key_img).unflatten(2, (attn.heads, -1))
            value_img = value_img.unflatten(2, (attn.heads, -1))
            out = out + self._attend(query, key_img, value_img, None)

        inputs = self.state.inputs
        if inputs is not None and inputs.scale != 0.0:
            out = out + inputs.scale * self.expression_branch(attn, query, inputs)

        out = attn.to_out[0](out)
        return attn.to_out[1](out)


def install_expression_attention(
    transformer: WanTransformer3DModel, context_dim: int, state: ExpressionState | None = None
) -> ExpressionState:
    """Put an `ExpressionAttnProcessor` on every block's cross-attention; returns the shared state."""
    state = state or ExpressionState()
    hidden = transformer.config.num_attention_heads * transformer.config.attention_head_dim
    for block in transformer.blocks:
        weight = block.attn2.to_q.weight
        with torch.device(weight.device):
            processor = ExpressionAttnProcessor(context_dim, hidden, state)
        block.attn2.set_processor(processor.to(dtype=weight.dtype))
    transformer.expression_state = state
    return state


def expression_state(transformer: WanTransformer3DModel) -> ExpressionState:
    """The state installed by `install_expression_attention` (clear error if it was not)."""
    state = getattr(transformer, "expression_state", None)
    if state is None:
        raise RuntimeError("expression attention is not installed; call install_expression_attention(transformer, ...)")
    return state
