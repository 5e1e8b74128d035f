"""Behaviours of the release (Fantasy-AMAP/fantasy-portrait @ 4df229c) encoded with its formulas:
fp8 storage, output sizes, the 25 fps multi-person time base, negative prompts, the VAE under model
offload, and the portrait faces used for one or several people."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import PIL.Image
import pytest
import torch
from tiny_fantasy import build_tiny_pipeline

from fantasy_model.expression_features import DrivingTrack
from fantasy_model.generate import (
    GenerationOptions,
    animate,
    generation_fps,
    output_size,
    portrait_faces,
    resize_portrait,
    retime_indices,
    scaled_size,
)
from fantasy_model.memory import FP8, configure_memory
from fantasy_model.pipeline import (
    DEFAULT_NEGATIVE_PROMPT,
    MULTI_PERSON_NEGATIVE_PROMPT,
    seeded_generator,
)

TEXT = torch.randn(1, 512, 24, generator=torch.Generator().manual_seed(7))
BOXES = [(0, 0, 48, 48), (48, 0, 96, 48)]
DRIVING = [[(10, 10, 50, 50)], [(0, 0, 40, 40)]]

# --------------------------------------------------------------------------- fp8 storage


def test_fp8_layerwise_casting_generates_on_cpu():
    """`--fp8` used to crash: the expression tokens were cast to the float8 storage dtype of the k/v
    projections. The transformer is bf16 with fp8 storage; the expression encoder stays fp32."""
    pipe = build_tiny_pipeline(seed=6)
    pipe.transformer.to(torch.bfloat16)
    configure_memory(pipe, device="cpu", offload="none", fp8=True)
    processor = pipe.transformer.blocks[0].attn2.processor
    assert processor.ip_adapter_single_stream_k_proj.weight.dtype == FP8
    assert pipe.expression_encoder.dtype == torch.float32
    image = PIL.Image.fromarray(np.full((48, 96, 3), 100, np.uint8))
    features = [torch.randn(5, 554, generator=torch.Generator().manual_seed(s)) for s in (0, 1)]
    out = pipe(image, features, BOXES, DRIVING, prompt_embeds=TEXT, num_inference_steps=2, generator=seeded_generator(0))
    assert out.frames.shape == (1, 5, 48, 96, 3) and np.isfinite(out.frames).all()


# --------------------------------------------------------------------------- output size


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((200, 310), (464, 720)),  # 464.5 -> 464 (already a multiple of 16); ceil(464.5 / 16) * 16 = 480
        ((200, 651), (224, 720)),  # 651 * (720 / 651) = 720.0000000000001 -> 720; unrounded it gave 736
        ((651, 200), (720, 224)),
        ((1920, 1080), (720, 416)),  # 405 -> 416
        ((1000, 1000), (720, 720)),
    ],
)
def test_output_size_truncates_then_rounds_up_to_16(size, expected):
    assert output_size(*size, 720) == expected


def test_scaled_size_is_the_release_int_truncation():
    # 200 * 720 / 310 = 464.52 -> 464; 651 * (720 / 651) = 720.0000000000001 in floating point -> 720
    assert scaled_size(200, 310, 720) == (464, 720)
    assert scaled_size(200, 651, 720) == (221, 720)


def test_portrait_is_resized_twice_like_the_release():
    rng = np.random.default_rng(0)
    portrait = rng.integers(0, 255, (310, 200, 3), dtype=np.uint8)
    image, boxes = resize_portrait(portrait, [(20, 40, 120, 140)], 720)
    assert image.size == (464, 720)
    step = PIL.Image.fromarray(portrait).resize(scaled_size(200, 310, 720), PIL.Image.LANCZOS)
    expected = step.resize((464, 720), PIL.Image.LANCZOS) if step.size != (464, 720) else step
    np.testing.assert_array_equal(np.asarray(image), np.asarray(expected))
    assert boxes[0] == pytest.approx((20 * 464 / 200, 40 * 720 / 310, 120 * 464 / 200, 140 * 720 / 310))


# --------------------------------------------------------------------------- driving time base


def test_retiming_picks_the_nearest_frame_and_keeps_the_duration():
    assert retime_indices(30, 30, 25).tolist()[:8] == [0, 1, 2, 4, 5, 6, 7, 8]  # k * 1.2 to the nearest
    assert len(retime_indices(30, 30, 25)) == 25
    assert retime_indices(20, 50, 25).tolist() == list(range(0, 20, 2))
    assert len(retime_indices(24, 24, 25)) == 25 and np.diff(retime_indices(24, 24, 25)).min() == 0
    assert retime_indices(9, 25, 50).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8]


def test_generation_rate_is_25_fps_for_several_people():
    options = GenerationOptions()
    assert generation_fps([30.0, 24.0], options) == 25.0
    assert generation_fps([30.0], options) == 30.0  # single person: the driving video's own rate
    with pytest.raises(ValueError, match="different frame rates"):
        generation_fps([30.0, 24.0], GenerationOptions(multi_person_fps=None))


class StandInExtractor:
    """Labelled stand-in for the ONNX detector/landmarks + PD-FGC: features encode each frame's value."""

    def __init__(self, portrait_boxes):
        self.portrait_boxes, self.seen, self.portrait_sizes = portrait_boxes, [], []

    def __call__(self, frames_bgr, tracking="continuous"):
        values = [int(f[0, 0, 0]) for f in frames_bgr]
        self.seen.append(values)
        features = torch.tensor(values, dtype=torch.float32)[:, None].repeat(1, 554) / 50
        boxes = np.tile(np.array([[10, 10, 40, 40]], np.float32), (len(values), 1))
        return features, DrivingTrack(landmarks=np.zeros((len(values), 222, 2)), boxes=boxes, detected=np.ones(len(values), bool))

    def detect_portrait_faces(self, image_bgr):
        self.portrait_sizes.append(image_bgr.shape[:2])
        return list(self.portrait_boxes)


@pytest.fixture
def text_pipeline(tiny_pipeline, monkeypatch):
    """The tiny pipeline has no umT5; prompt encoding returns fixed embeddings and records the prompts."""
    seen = []

    def encode_prompt(*, prompt, negative_prompt, do_classifier_free_guidance, **_):
        seen.append(negative_prompt if do_classifier_free_guidance else None)
        return TEXT, TEXT * 0.5

    monkeypatch.setattr(tiny_pipeline, "encode_prompt", encode_prompt)
    tiny_pipeline.negative_prompts = seen
    return tiny_pipeline


def _driving(count, offset=0):
    frames = np.zeros((count, 16, 16, 3), np.uint8)
    frames[:] = (np.arange(count) + offset)[:, None, None, None]
    return frames


def test_multi_person_drivers_are_retimed_to_25_fps(text_pipeline):
    extractor = StandInExtractor(BOXES)
    model = SimpleNamespace(pipe=text_pipeline, extractor=extractor)
    portrait = np.full((48, 96, 3), 90, np.uint8)
    options = GenerationOptions(max_size=96, num_inference_steps=1)
    out = animate(portrait, [_driving(20), _driving(20, 100)], None, 50.0, 18, model=model, options=options)
    # 18 frames at 50 fps = 0.72 s = 9 frames at 25 fps; the features see every second frame
    assert extractor.seen == [list(range(0, 18, 2)), list(range(100, 118, 2))]
    assert extractor.portrait_sizes == [(48, 96)]  # faces are detected in the resized portrait
    assert out.shape == (18, 48, 96, 3)  # re-timed back to the caller's 50 fps
    np.testing.assert_array_equal(out[0], out[1])  # each 25 fps frame shown twice
    at_25 = animate(portrait, [_driving(20), _driving(20, 100)], None, 50.0, 9, model=model, options=options, output_fps=25.0)
    assert at_25.shape == (9, 48, 96, 3)
    np.testing.assert_array_equal(at_25, out[::2])


def test_single_person_keeps_the_native_rate_and_uses_the_largest_face(text_pipeline):
    extractor = StandInExtractor([(0, 0, 20, 20), (30, 0, 90, 40), (60, 20, 70, 30)])
    model = SimpleNamespace(pipe=text_pipeline, extractor=extractor)
    portrait = np.full((48, 96, 3), 90, np.uint8)
    out = animate(portrait, [_driving(12)], None, 30.0, 9, model=model,
                  options=GenerationOptions(max_size=96, num_inference_steps=1))
    assert extractor.seen == [list(range(9))] and out.shape == (9, 48, 96, 3)
    image = PIL.Image.fromarray(portrait)
    assert portrait_faces(model, image, 1) == [(30, 0, 90, 40)]
    assert portrait_faces(model, image, 2) == extractor.portrait_boxes
    assert portrait_faces(SimpleNamespace(extractor=StandInExtractor([])), image, 1) == [(0.0, 0.0, 96.0, 48.0)]


# --------------------------------------------------------------------------- negative prompts


def test_negative_prompts_are_the_release_strings(text_pipeline):
    release_single = (
        "人物静止不动，静止，色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
        "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，"
        "静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
    )
    assert DEFAULT_NEGATIVE_PROMPT == release_single
    assert MULTI_PERSON_NEGATIVE_PROMPT == "人物嘴巴不停地说话，" + release_single
    image = PIL.Image.fromarray(np.full((48, 96, 3), 90, np.uint8))
    feats = [torch.randn(5, 554) for _ in range(2)]
    text_pipeline(image, feats, BOXES, DRIVING, guidance_scale=3.0, num_inference_steps=1, output_type="latent")
    text_pipeline(image, feats[:1], BOXES[:1], DRIVING[:1], guidance_scale=3.0, num_inference_steps=1, output_type="latent")
    assert text_pipeline.negative_prompts == [MULTI_PERSON_NEGATIVE_PROMPT, DEFAULT_NEGATIVE_PROMPT]


# --------------------------------------------------------------------------- VAE under model offload


def test_vae_is_offloaded_before_denoising_under_model_offload():
    pipe = build_tiny_pipeline(seed=8)
    configure_memory(pipe, device="cpu", offload="model_cpu_offload")
    events = []
    (hook,) = [h for h in pipe._all_hooks if h.model is pipe.vae]
    offload = hook.offload
    hook.offload = lambda: (events.append("vae offloaded"), offload())
    pipe.transformer.register_forward_pre_hook(lambda *_: events.append("transformer"))
    image = PIL.Image.fromarray(np.full((48, 96, 3), 90, np.uint8))
    pipe(image, [torch.randn(5, 554)], BOXES[:1], DRIVING[:1], prompt_embeds=TEXT, num_inference_steps=1,
         expression_guidance_scale=1.0, output_type="latent")
    assert events[:2] == ["vae offloaded", "transformer"]
