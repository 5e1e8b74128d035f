"""Flow-matching schedule, guidance formulas, and end-to-end tiny generation on the CPU."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest
import torch

from fantasy_model.generate import GenerationOptions, animate_features, to_uint8
from fantasy_model.guidance import combine, plan_guidance
from fantasy_model.pipeline import official_sigmas, seeded_generator

BOXES = [(0, 0, 48, 48), (48, 0, 96, 48)]
DRIVING = [[(10, 10, 50, 50), (14, 10, 54, 52)], [(0, 0, 40, 40)]]


def test_scheduler_uses_the_release_sigmas(tiny_pipeline):
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler(shift=5.0)
    scheduler.set_timesteps(sigmas=official_sigmas(30))
    sigma = np.linspace(1, 0, 31)[:-1]
    shifted = 5 * sigma / (1 + 4 * sigma)
    assert len(scheduler.timesteps) == 30
    np.testing.assert_allclose(scheduler.sigmas[:-1].numpy(), shifted, rtol=1e-6)
    np.testing.assert_allclose(scheduler.timesteps.numpy(), shifted * 1000, rtol=1e-5)
    assert scheduler.sigmas[-1] == 0


def test_guidance_formulas():
    full, noexpr, uncond = (torch.randn(4) for _ in range(3))
    torch.testing.assert_close(combine(full, noexpr, None, 4.0, 1.0), noexpr + 4.0 * (full - noexpr))
    torch.testing.assert_close(
        combine(full, noexpr, uncond, 4.5, 5.0), uncond + 5.0 * (noexpr - uncond) + 4.5 * (full - noexpr)
    )
    torch.testing.assert_close(combine(full, None, uncond, 1.0, 0.5), uncond + 0.5 * (full - uncond))
    assert combine(full, None, None, 1.0, 1.0) is full
    assert [plan_guidance(e, t).passes for e, t in [(1, 1), (4, 1), (1, 5), (4, 5), (4, 0.5)]] == [1, 2, 2, 3, 3]
    with pytest.raises(ValueError):
        combine(full, None, None, 4.0, 1.0)


def _image():
    rng = np.random.default_rng(0)
    return PIL.Image.fromarray(rng.integers(0, 255, (48, 96, 3), dtype=np.uint8))


def _features(seed=0, frames=9):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(frames, 554, generator=generator) for _ in range(2)]


def _run(pipe, seed=42, **kwargs):
    text = torch.randn(1, 512, 24, generator=torch.Generator().manual_seed(7))
    kwargs.setdefault("negative_prompt_embeds", text * 0.5)
    return pipe(_image(), kwargs.pop("features", _features()), BOXES, DRIVING, prompt_embeds=text,
                num_inference_steps=2, generator=seeded_generator(seed), **kwargs)


def _count_passes(pipe):
    calls = []
    handle = pipe.transformer.register_forward_pre_hook(lambda *_: calls.append(1))
    return calls, handle


def test_end_to_end_generation_is_seeded_and_uses_expressions(tiny_pipeline):
    calls, handle = _count_passes(tiny_pipeline)
    try:
        first = _run(tiny_pipeline)
        assert len(calls) == 2 * 2  # two steps, expression guidance -> two DiT passes each
    finally:
        handle.remove()
    frames = first.frames
    assert frames.shape == (1, 9, 48, 96, 3) and np.isfinite(frames).all()
    assert 0 <= frames.min() and frames.max() <= 1
    assert first.face_regions == [(0, 0, 52, 48), (48, 0, 96, 48)]  # enlarged by motion, clipped
    latents = _run(tiny_pipeline, output_type="latent").frames
    torch.testing.assert_close(_run(tiny_pipeline, output_type="latent").frames, latents, rtol=0, atol=0)
    assert not torch.allclose(_run(tiny_pipeline, seed=1, output_type="latent").frames, latents)
    assert not torch.allclose(_run(tiny_pipeline, features=_features(seed=3), output_type="latent").frames, latents)
    np.testing.assert_array_equal(tiny_pipeline.decode_latents(latents), frames)


def test_text_guidance_adds_a_negative_pass(tiny_pipeline):
    calls, handle = _count_passes(tiny_pipeline)
    try:
        _run(tiny_pipeline, guidance_scale=3.0, output_type="latent")
    finally:
        handle.remove()
    assert len(calls) == 3 * 2


def test_expression_guidance_off_with_zero_scale_ignores_expressions(tiny_pipeline):
    a = _run(tiny_pipeline, expression_guidance_scale=1.0, ip_scale=0.0, output_type="latent").frames
    b = _run(tiny_pipeline, expression_guidance_scale=1.0, ip_scale=0.0, features=_features(seed=9), output_type="latent").frames
    torch.testing.assert_close(a, b)


def test_sliding_window_generation_stitches_windows(tiny_pipeline):
    options = GenerationOptions(num_inference_steps=1, window_frames=9, window_overlap=4, seed=5)
    text = torch.randn(1, 512, 24, generator=torch.Generator().manual_seed(7))
    features = _features(frames=13)
    out = animate_features(tiny_pipeline, _image(), features, BOXES, DRIVING, 13, options, prompt_embeds=text)
    assert out.shape == (13, 48, 96, 3) and out.dtype == np.uint8
    again = animate_features(tiny_pipeline, _image(), features, BOXES, DRIVING, 13, options, prompt_embeds=text)
    np.testing.assert_array_equal(out, again)
    # frames only the first window covers are exactly that window's own generation
    first = tiny_pipeline(
        _image(), [f[:9] for f in features], BOXES, DRIVING, num_frames=9, prompt_embeds=text,
        image_embeds=tiny_pipeline.encode_image(_image(), torch.device("cpu")), num_inference_steps=1,
        generator=seeded_generator(5),
    )
    np.testing.assert_array_equal(out[:4], to_uint8(first.frames)[:4])
    assert not np.array_equal(out[4:9], to_uint8(first.frames)[4:9])  # cross-faded with window 2
