"""GPU-only checks: offload really keeps the transformer off the device, and fp8 generation runs."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import torch
from tiny_fantasy import build_tiny_pipeline

from fantasy_model.memory import check_offload, configure_memory

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _generate(pipe):
    image = PIL.Image.fromarray(np.full((32, 64, 3), 100, np.uint8))
    return pipe(image, [torch.randn(9, 554), torch.randn(9, 554)], [(0, 0, 32, 32), (32, 0, 64, 32)],
                [[(0, 0, 10, 10)]] * 2, prompt_embeds=torch.randn(1, 512, 24), num_inference_steps=2)


@pytest.mark.parametrize("offload", ["model_cpu_offload", "group_offload", "sequential"])
def test_offload_keeps_transformer_on_cpu_and_generates(offload):
    pipe = build_tiny_pipeline()
    configure_memory(pipe, device="cuda", offload=offload)
    assert all(p.device.type == "cpu" for p in pipe.transformer.parameters())
    out = _generate(pipe)
    assert np.isfinite(out.frames).all()
    if offload != "model_cpu_offload":  # model offload keeps the last model until the next one runs
        assert all(p.device.type == "cpu" for p in pipe.transformer.parameters())


def test_defeated_offload_is_detected():
    pipe = build_tiny_pipeline()
    pipe.transformer.to("cuda")
    with pytest.raises(RuntimeError, match="offload is defeated"):
        check_offload(pipe.transformer, torch.device("cuda"))


def test_fp8_storage_generates_on_gpu():
    pipe = build_tiny_pipeline().to(dtype=torch.bfloat16)
    configure_memory(pipe, device="cuda", offload="none", fp8=True)
    assert any(p.dtype == torch.float8_e4m3fn for p in pipe.transformer.parameters())
    out = _generate(pipe)
    assert np.isfinite(out.frames).all()


def test_model_offload_keeps_the_vae_off_the_gpu_while_denoising():
    pipe = build_tiny_pipeline()
    configure_memory(pipe, device="cuda", offload="model_cpu_offload")
    vae_devices = []
    pipe.transformer.register_forward_pre_hook(
        lambda *_: vae_devices.append({p.device.type for p in pipe.vae.parameters()}))
    out = _generate(pipe)
    assert np.isfinite(out.frames).all()
    assert vae_devices and all(devices == {"cpu"} for devices in vae_devices)
