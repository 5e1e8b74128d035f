"""PSNR/SSIM against scikit-image, LPIPS against the published TID2013 values, and real-media sanity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from exprbench.metrics.frames import to_unit_tensor
from exprbench.metrics.lpips import LPIPS
from exprbench.metrics.psnr import PSNR
from exprbench.metrics.ssim import SSIM

from .conftest import TID_LPIPS_OFFICIAL, blur, jpeg


@pytest.fixture(scope="module")
def distorted(pexels_frames: np.ndarray) -> dict[str, np.ndarray]:
    frames = pexels_frames[::10]  # 6 varied real frames, 640x360
    return {"original": frames, "blur1": blur(frames, 1.0), "blur3": blur(frames, 3.0), "jpeg20": jpeg(frames, 20)}


@pytest.fixture(scope="module")
def small(distorted: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The face area (256x256) of the first 4 frames: real pixels, cheap enough to score many times."""
    return {k: np.ascontiguousarray(v[:4, 40:296, 200:456]) for k, v in distorted.items()}


@pytest.mark.parametrize("kind", ["blur1", "blur3", "jpeg20"])
def test_psnr_ssim_match_scikit_image(distorted: dict[str, np.ndarray], kind: str) -> None:
    ref, gen = distorted["original"], distorted[kind]
    psnr = PSNR().score(gen, ref)
    ssim = SSIM().score(gen, ref)
    for i in range(len(ref)):
        r, g = ref[i] / 255.0, gen[i] / 255.0
        assert psnr.per_frame[i] == pytest.approx(peak_signal_noise_ratio(r, g, data_range=1.0), abs=1e-4)
        sk = structural_similarity(r, g, channel_axis=-1, gaussian_weights=True, sigma=1.5, win_size=11,
                                   use_sample_covariance=False, data_range=1.0, K1=0.01, K2=0.03)
        assert ssim.per_frame[i] == pytest.approx(sk, abs=1e-5)  # float32 maps vs float64: ~5e-6
    assert psnr.value == pytest.approx(float(np.mean(psnr.per_frame)))
    assert ssim.value == pytest.approx(float(np.mean(ssim.per_frame)))


def test_lpips_reproduces_published_tid2013_values(tid2013_pairs: list[tuple[np.ndarray, np.ndarray]]) -> None:
    metric = LPIPS()
    values = [metric.score(dist[None], ref[None]).value for dist, ref in tid2013_pairs]
    assert [round(v, 4) for v in values] == list(TID_LPIPS_OFFICIAL)


def test_identical_copy_scores_perfect(distorted: dict[str, np.ndarray]) -> None:
    frames = distorted["original"]
    psnr = PSNR().score(frames, frames.copy())
    assert np.all(np.isposinf(psnr.per_frame)) and psnr.value == float("inf")
    assert SSIM().score(frames, frames.copy()).value == pytest.approx(1.0, abs=1e-6)
    lpips = LPIPS().score(frames, frames.copy())
    assert lpips.value == 0.0 and np.all(lpips.per_frame == 0.0)


def test_blur_scores_worse_on_every_paired_metric(distorted: dict[str, np.ndarray]) -> None:
    ref = distorted["original"]
    scores = {k: (PSNR().score(distorted[k], ref).value, SSIM().score(distorted[k], ref).value,
                  LPIPS().score(distorted[k], ref).value) for k in ("blur1", "blur3")}
    (p1, s1, l1), (p3, s3, l3) = scores["blur1"], scores["blur3"]
    assert np.isfinite(p1) and p3 < p1 < 60
    assert s3 < s1 < 0.999
    assert l3 > l1 > 0.001


def test_runs_are_bit_identical_and_batch_size_independent(small: dict[str, np.ndarray]) -> None:
    ref, gen = small["original"], small["jpeg20"]
    for cls in (PSNR, SSIM, LPIPS):
        first, second = cls(batch_size=4).score(gen, ref), cls(batch_size=4).score(gen, ref)
        assert np.array_equal(first.per_frame, second.per_frame), cls.name
        single = cls(batch_size=1).score(gen, ref)
        np.testing.assert_allclose(single.per_frame, first.per_frame, rtol=1e-5, atol=1e-6, err_msg=cls.name)


def test_chunked_updates_equal_one_call_and_float_input(small: dict[str, np.ndarray]) -> None:
    ref, gen = small["original"], small["blur1"]
    metric = SSIM()
    for start in range(0, len(ref), 3):
        metric.update(gen[start:start + 3], ref[start:start + 3])
    chunked = metric.compute_video()
    whole = SSIM().score(gen, ref)
    assert np.array_equal(chunked.per_frame, whole.per_frame) and chunked.value == whole.value
    as_float = SSIM().score(to_unit_tensor(gen), to_unit_tensor(ref))
    assert np.array_equal(as_float.per_frame, whole.per_frame)


def test_psnr_video_reduction_rules() -> None:
    rng = np.random.default_rng(0)
    ref = rng.integers(0, 256, (4, 32, 48, 3), dtype=np.uint8)
    noisy = np.clip(ref.astype(int) + rng.integers(-8, 9, ref.shape), 0, 255).astype(np.uint8)
    metric = PSNR()
    imperfect = metric.score(noisy, ref)
    assert np.all(np.isfinite(imperfect.per_frame))
    one_exact = noisy.copy()
    one_exact[0] = ref[0]
    mixed = metric.score(one_exact, ref)
    assert np.isposinf(mixed.per_frame[0])  # the per-frame value keeps +inf
    expected = (metric.protocol.averaging_cap_db + imperfect.per_frame[1:].sum()) / 4
    assert mixed.value == pytest.approx(expected)  # the video mean counts it at the 100 dB cap
    assert imperfect.value < mixed.value < float("inf")


def test_invalid_frames_are_nan_and_lower_coverage(small: dict[str, np.ndarray]) -> None:
    ref, gen = small["original"], small["blur1"]
    valid = np.array([True, False, True, False])
    score = LPIPS().score(gen, ref, valid=valid)
    assert np.isnan(score.per_frame[[1, 3]]).all() and np.isfinite(score.per_frame[valid]).all()
    assert score.coverage == pytest.approx(0.5)
    assert score.value == pytest.approx(float(np.mean(score.per_frame[valid])))
    nothing = PSNR().score(gen[:2], ref[:2], valid=np.zeros(2, dtype=bool))
    assert np.isnan(nothing.value) and nothing.coverage == 0.0


def test_generated_of_another_size_is_resized_to_reference(distorted: dict[str, np.ndarray]) -> None:
    ref = distorted["original"][:3]
    small = torch.nn.functional.interpolate(to_unit_tensor(ref), size=(180, 320), mode="bicubic", antialias=True)
    score = PSNR().score(small.clamp(0, 1), ref)
    assert 20 < score.value < 45  # compared at 640x360, not rejected
    with pytest.raises(ValueError, match="reference frames"):
        PSNR().score(ref[:2], ref)


def test_frame_shifted_copy_scores_worse_than_identical(pexels_clip: np.ndarray) -> None:
    ref = np.ascontiguousarray(pexels_clip[:4, 40:296, 200:456])
    shifted = np.ascontiguousarray(pexels_clip[6:10, 40:296, 200:456])  # the same face 6 frames later
    assert PSNR().score(shifted, ref).value < 40
    assert SSIM().score(shifted, ref).value < 0.98
    assert LPIPS().score(shifted, ref).value > 0.005
