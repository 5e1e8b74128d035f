"""Strict loading of both checkpoint layouts, and of PD-FGC weights."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
from safetensors.torch import save_file
from tiny_fantasy import build_tiny_adapter, flat_adapter_state

from fantasy_model.checkpoint import (
    CheckpointError,
    check_tensors,
    expected_shapes,
    load_adapter_weights,
    official_layout,
    read_adapter_file,
    save_flat_safetensors,
)
from fantasy_model.configs import OFFICIAL_ADAPTER, WAN_I2V_14B_720P
from fantasy_model.expression_attention import install_expression_attention
from fantasy_model.expression_encoder import ExpressionEncoder
from fantasy_model.pd_fgc import FanEncoder, load_fan_encoder, load_fan_encoder_state


@pytest.fixture(scope="module")
def source():
    transformer, encoder, config = build_tiny_adapter(seed=11)
    return flat_adapter_state(transformer, encoder), config


def _fresh(config):
    transformer, encoder, _ = build_tiny_adapter(seed=99)
    return transformer, encoder


def _assert_loaded(state, transformer, encoder):
    torch.testing.assert_close(flat_adapter_state(transformer, encoder), state, rtol=0, atol=0)


def test_official_ckpt_layout_loads(tmp_path, source):
    state, config = source
    parts = official_layout(state)
    assert "blocks.1.cross_attn.processor.ip_adapter_single_stream_v_proj.weight" in parts["ip_adapter"]
    path = tmp_path / "fantasyportrait_model.ckpt"
    torch.save(parts, path)
    transformer, encoder = _fresh(config)
    assert load_adapter_weights(path, encoder, transformer) == {}
    _assert_loaded(state, transformer, encoder)


def test_flat_safetensors_layouts_load_with_or_without_processor_infix(tmp_path, source):
    state, config = source
    fan = {k: v for k, v in FanEncoder().state_dict().items()}
    path = tmp_path / "repack.safetensors"
    save_flat_safetensors(path, state, fan)
    transformer, encoder = _fresh(config)
    bundled = load_adapter_weights(path, encoder, transformer)
    _assert_loaded(state, transformer, encoder)
    assert set(bundled) == set(fan)
    # the same file with ".processor." kept in the ip keys
    infix = {k.replace(".cross_attn.", ".cross_attn.processor."): v for k, v in state.items()}
    path2 = tmp_path / "infix.safetensors"
    save_file({f"{k}": v.contiguous() for k, v in infix.items()}, str(path2))
    transformer, encoder = _fresh(config)
    load_adapter_weights(path2, encoder, transformer)
    _assert_loaded(state, transformer, encoder)


def test_shape_mismatch_names_file_key_and_both_shapes(tmp_path, source):
    state, config = source
    bad = dict(state)
    bad["emo_proj_model.proj_in.weight"] = torch.zeros(32, 31)
    path = tmp_path / "bad.safetensors"
    save_flat_safetensors(path, bad)
    transformer, encoder = _fresh(config)
    with pytest.raises(CheckpointError) as error:
        load_adapter_weights(path, encoder, transformer)
    message = str(error.value)
    assert str(path) in message and "emo_proj_model.proj_in.weight" in message
    assert "(32, 31)" in message and "(32, 30)" in message


def test_missing_keys_are_errors(tmp_path, source):
    state, config = source
    missing = {k: v for k, v in state.items() if k != "ip_adapter.blocks.1.cross_attn.ip_adapter_single_stream_k_proj.weight"}
    path = tmp_path / "missing.safetensors"
    save_flat_safetensors(path, missing)
    transformer, encoder = _fresh(config)
    with pytest.raises(CheckpointError, match="missing key 'ip_adapter.blocks.1"):
        load_adapter_weights(path, encoder, transformer)


def test_unexpected_keys_are_reported_and_dropped_in_the_flat_layout(tmp_path, source, caplog):
    state, config = source
    extra = dict(state, **{"proj_model.extra.weight": torch.zeros(1),
                           "ip_adapter.blocks.0.cross_attn.norm_k.weight": torch.ones(3)})
    path = tmp_path / "extra.safetensors"
    save_flat_safetensors(path, extra)
    transformer, encoder = _fresh(config)
    with caplog.at_level("WARNING", logger="fantasy_model.checkpoint"):
        load_adapter_weights(path, encoder, transformer)
    _assert_loaded(state, transformer, encoder)
    assert "ignoring 2 unexpected" in caplog.text and "proj_model.extra.weight" in caplog.text and str(path) in caplog.text


def test_official_ckpt_with_extra_parts_and_keys_loads(tmp_path, source, caplog):
    """The release's loader reads the four named parts only and the DiT part with strict=False."""
    state, config = source
    parts = official_layout(state)
    parts["optimizer"] = {"step": torch.tensor(3)}
    parts["ip_adapter"]["blocks.0.cross_attn.processor.something_else"] = torch.zeros(2)
    path = tmp_path / "fantasyportrait_model.ckpt"
    torch.save(parts, path)
    transformer, encoder = _fresh(config)
    with caplog.at_level("WARNING", logger="fantasy_model.checkpoint"):
        load_adapter_weights(path, encoder, transformer)
    _assert_loaded(state, transformer, encoder)
    assert "ignoring 1 top-level entries" in caplog.text and "optimizer" in caplog.text
    assert "ip_adapter.blocks.0.cross_attn.processor.something_else" in caplog.text
    # a required part that is absent is still an error
    del parts["emo_proj_model"]
    torch.save(parts, path)
    with pytest.raises(CheckpointError, match="expected a dict with parts"):
        load_adapter_weights(path, encoder, transformer)


def test_missing_file_and_pickled_objects_are_refused(tmp_path, source):
    _, config = source
    transformer, encoder = _fresh(config)
    with pytest.raises(FileNotFoundError, match="acvlab/FantasyPortrait"):
        load_adapter_weights(tmp_path / "nope.ckpt", encoder, transformer)
    path = tmp_path / "evil.ckpt"
    with open(path, "wb") as handle:
        pickle.dump({"proj_model": os.system}, handle)  # a callable global: refused by weights_only
    with pytest.raises(CheckpointError, match="weights-only"):
        read_adapter_file(path)
    torch.save({"proj_model": {}}, path)
    with pytest.raises(CheckpointError, match="expected a dict with parts"):
        read_adapter_file(path)


def test_full_size_official_layout_checks_on_meta():
    from diffusers import WanTransformer3DModel

    with torch.device("meta"):
        transformer = WanTransformer3DModel(**WAN_I2V_14B_720P)
        encoder = ExpressionEncoder(OFFICIAL_ADAPTER)
    install_expression_attention(transformer, 2048)
    state = flat_adapter_state(transformer, encoder)
    check_tensors(state, expected_shapes(OFFICIAL_ADAPTER), "meta")
    wrong = dict(state)
    wrong["ip_adapter.blocks.7.cross_attn.ip_adapter_single_stream_v_proj.weight"] = torch.empty(5120, 768, device="meta")
    with pytest.raises(CheckpointError, match=r"blocks\.7.*\(5120, 768\).*\(5120, 2048\)"):
        check_tensors(wrong, expected_shapes(OFFICIAL_ADAPTER), "meta")


def test_pd_fgc_encoder_outputs_554_and_loads_strictly(tmp_path):
    torch.manual_seed(0)
    reference = FanEncoder().eval()
    for module in reference.modules():  # non-trivial running stats so a bad load would show
        if isinstance(module, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.9, 1.1)
    path = tmp_path / "pd_fpg.pth"
    torch.save({f"module.{k}": v for k, v in reference.state_dict().items()}, path)
    loaded = load_fan_encoder(path)
    faces = torch.rand(2, 3, 224, 224) * 2 - 1
    with torch.no_grad():
        out = loaded(faces)
        torch.testing.assert_close(out, reference(faces))
    assert out.shape == (2, 554)
    state = reference.state_dict()
    state.pop("to_emo.3.bias")
    with pytest.raises(CheckpointError, match="missing PD-FGC key 'to_emo.3.bias'"):
        load_fan_encoder_state(FanEncoder(), state, path)
    state = reference.state_dict()
    state["emo_embed.1.weight"] = torch.zeros(31, 512)
    with pytest.raises(CheckpointError, match=r"emo_embed\.1\.weight.*\(31, 512\).*\(30, 512\)"):
        load_fan_encoder_state(FanEncoder(), state, path)


def test_pd_fgc_extra_tensors_are_reported_and_dropped(tmp_path, caplog):
    """pd_fpg.pth is loaded with strict=False in the release and may hold more than the motion encoder."""
    torch.manual_seed(1)
    reference = FanEncoder().eval()
    state = dict(reference.state_dict())
    state["audio_encoder.0.weight"] = torch.zeros(4, 4)
    state["mouth_decoder.bias"] = torch.zeros(7)
    path = tmp_path / "pd_fpg.pth"
    torch.save(state, path)
    with caplog.at_level("WARNING", logger="fantasy_model.checkpoint"):
        loaded = load_fan_encoder(path)
    assert "ignoring 2 unexpected PD-FGC tensors" in caplog.text and str(path) in caplog.text
    torch.testing.assert_close(loaded.state_dict(), reference.state_dict(), rtol=0, atol=0)
