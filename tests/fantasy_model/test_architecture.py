"""Adapter architecture: exact official shapes (meta device), token layout, and attention maths."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fantasy_model.checkpoint import expected_shapes
from fantasy_model.configs import OFFICIAL_ADAPTER, WAN_I2V_14B_720P
from fantasy_model.expression_attention import (
    ExpressionInputs,
    expression_state,
    install_expression_attention,
)
from fantasy_model.expression_encoder import ExpressionEncoder
from fantasy_model.resampler import PerceiverAttention


def test_official_tensor_shapes_match_the_spec_table():
    shapes = expected_shapes(OFFICIAL_ADAPTER)
    assert shapes["proj_model.headpose_proj.weight"] == (2048, 6)
    assert shapes["proj_model.eye_proj.weight"] == (2048, 6)
    assert shapes["proj_model.emo_proj.weight"] == (2048, 30)
    assert shapes["proj_model.mouth_proj.weight"] == (2048, 512)
    assert shapes["proj_model.norm.weight"] == (2048,)
    assert "proj_model.headpose_proj.bias" not in shapes
    assert shapes["mouth_proj_model.latents"] == (1, 16, 1280)
    assert shapes["emo_proj_model.latents"] == (1, 4, 1280)
    assert shapes["mouth_proj_model.proj_in.weight"] == (1280, 512)
    assert shapes["emo_proj_model.proj_in.weight"] == (1280, 30)
    assert shapes["emo_proj_model.proj_out.weight"] == (2048, 1280)
    assert shapes["mouth_proj_model.norm_out.bias"] == (2048,)
    for layer in range(4):
        prefix = f"mouth_proj_model.layers.{layer}"
        assert shapes[f"{prefix}.0.to_q.weight"] == (1280, 1280)
        assert shapes[f"{prefix}.0.to_kv.weight"] == (2560, 1280)
        assert shapes[f"{prefix}.0.to_out.weight"] == (1280, 1280)
        assert shapes[f"{prefix}.1.0.weight"] == (1280,)
        assert shapes[f"{prefix}.1.1.weight"] == (5120, 1280)
        assert shapes[f"{prefix}.1.3.weight"] == (1280, 5120)
    ip = [k for k in shapes if k.startswith("ip_adapter.")]
    assert len(ip) == 80 and all(shapes[k] == (5120, 2048) for k in ip)


def test_official_parameter_counts_match_the_spec():
    with torch.device("meta"):
        encoder = ExpressionEncoder(OFFICIAL_ADAPTER)
    count = lambda m: sum(p.numel() for p in m.parameters())
    assert round(count(encoder.proj_model) / 1e6, 2) == 1.14
    assert round(count(encoder.mouth_proj_model) / 1e6, 2) == 81.98
    assert round(count(encoder.emo_proj_model) / 1e6, 2) == 81.35
    total = sum(torch.Size(shape).numel() for shape in expected_shapes().values())
    assert round(total / 1e9, 3) == 1.003


def test_full_size_transformer_gets_expression_projections_on_meta():
    from diffusers import WanTransformer3DModel

    with torch.device("meta"):
        transformer = WanTransformer3DModel(**WAN_I2V_14B_720P)
    install_expression_attention(transformer, 2048)
    names = {n: tuple(p.shape) for n, p in transformer.named_parameters() if "ip_adapter" in n}
    assert len(names) == 80
    assert names["blocks.39.attn2.processor.ip_adapter_single_stream_v_proj.weight"] == (5120, 2048)
    assert all(p.device.type == "meta" for p in transformer.parameters())
    # self-attention keeps the stock processor
    assert not any(".attn1.processor." in n for n in names)


def test_encoder_token_layout_per_frame(tiny_adapter):
    _, encoder, config = tiny_adapter
    torch.manual_seed(0)
    features = torch.randn(2, 3, 554)
    tokens = encoder(features).view(2, 3, 24, config.context_dim)
    assert tokens.shape == (2, 3, 24, config.context_dim)
    # tokens 0-3: the shared-norm linear projections, in order head pose, eye, emotion, mouth
    linear = encoder.proj_model(features)
    torch.testing.assert_close(tokens[:, :, :4], linear)
    expected_eye = encoder.proj_model.norm(encoder.proj_model.eye_proj(features[..., 6:12]))
    torch.testing.assert_close(tokens[:, :, 1], expected_eye)
    # tokens 4-19 come from the mouth resampler only, 20-23 from the emotion resampler only
    changed = features.clone()
    changed[..., 12:42] += 1.0  # emotion features
    other = encoder(changed).view(2, 3, 24, -1)
    torch.testing.assert_close(other[:, :, 4:20], tokens[:, :, 4:20])
    assert not torch.allclose(other[:, :, 20:], tokens[:, :, 20:])
    torch.testing.assert_close(
        tokens[0, 1, 4:20], encoder.mouth_proj_model(features[0, 1, 42:].view(1, 1, 512))[0]
    )


def test_perceiver_attention_matches_standard_attention():
    torch.manual_seed(0)
    attn = PerceiverAttention(dim=32, dim_head=8, heads=4)
    x, latents = torch.randn(3, 1, 32), torch.randn(3, 5, 32)
    out = attn(x, latents)
    xn, ln = attn.norm1(x), attn.norm2(latents)
    q = attn.to_q(ln).view(3, 5, 4, 8).transpose(1, 2)
    k, v = attn.to_kv(torch.cat([xn, ln], 1)).chunk(2, -1)
    k, v = (t.view(3, 6, 4, 8).transpose(1, 2) for t in (k, v))
    ref = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(3, 5, 32)
    torch.testing.assert_close(out, attn.to_out(ref))


def _transformer_inputs(transformer, frames=2, height=4, width=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    cfg = transformer.config
    return dict(
        hidden_states=torch.randn(1, 36, frames, height, width, generator=generator),
        timestep=torch.tensor([500.0]),
        encoder_hidden_states=torch.randn(1, 512, cfg.text_dim, generator=generator),
        encoder_hidden_states_image=torch.randn(1, 5, cfg.image_dim, generator=generator),
        return_dict=False,
    )


def test_processor_reproduces_stock_wan_cross_attention_when_expression_is_off():
    from tiny_fantasy import build_tiny_transformer

    stock = build_tiny_transformer(seed=3)
    patched = build_tiny_transformer(seed=3)
    install_expression_attention(patched, 24)  # zero-initialised projections, as released
    inputs = _transformer_inputs(stock)
    with torch.no_grad():
        reference = stock(**inputs)[0]
        tokens = torch.randn(1, 2, 97, 24)
        with expression_state(patched).use(ExpressionInputs(tokens=tokens, scale=1.0)):
            zero_init = patched(**inputs)[0]
        off = patched(**inputs)[0]
    torch.testing.assert_close(off, reference)
    torch.testing.assert_close(zero_init, reference)


def test_expression_branch_is_windowed_per_latent_frame(tiny_adapter):
    transformer, _, _ = tiny_adapter
    attn = transformer.blocks[0].attn2
    processor = attn.processor
    torch.manual_seed(0)
    frames, per_frame, heads, head_dim = 3, 6, 2, 16
    query = torch.randn(1, frames * per_frame, heads, head_dim)
    tokens = torch.randn(1, frames, 97, 24)
    out = processor.expression_branch(attn, query, ExpressionInputs(tokens=tokens))
    changed = tokens.clone()
    changed[:, 1] += 1.0  # only latent frame 1's window
    out2 = processor.expression_branch(attn, query, ExpressionInputs(tokens=changed))
    diff = (out2 - out).abs().view(frames, per_frame, -1).amax(dim=(1, 2))
    assert diff[1] > 1e-3 and diff[0] == 0 and diff[2] == 0
    # frame 0 by hand: softmax(q k^T / sqrt(d)) v over that frame's 97 tokens
    k = processor.ip_adapter_single_stream_k_proj(tokens[0, 0]).view(97, heads, head_dim).transpose(0, 1)
    v = processor.ip_adapter_single_stream_v_proj(tokens[0, 0]).view(97, heads, head_dim).transpose(0, 1)
    q = query[0, :per_frame].transpose(0, 1)
    ref = torch.softmax(q @ k.transpose(1, 2) / head_dim**0.5, -1) @ v
    torch.testing.assert_close(out[0, :per_frame], ref.transpose(0, 1).reshape(per_frame, -1), atol=1e-5, rtol=1e-4)
