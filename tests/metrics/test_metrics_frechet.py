"""Frechet distance against a direct scipy computation; streaming statistics against batch statistics."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from exprbench.metrics.frechet import FeatureStats, frechet_distance, stats_distance


def _scipy_frechet(x: np.ndarray, y: np.ndarray) -> float:
    """The textbook formula with a general matrix square root (as pytorch-fid / stylegan-v do)."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


def _features(rng: np.random.Generator, n: int, d: int, shift: float, scale: float) -> np.ndarray:
    mixing = rng.standard_normal((d, d)) / np.sqrt(d)
    return (rng.standard_normal((n, d)) * scale) @ mixing + shift


@pytest.mark.parametrize("shift,scale", [(0.0, 1.0), (0.3, 1.0), (1.5, 2.0), (0.0, 0.2)])
def test_frechet_matches_scipy_sqrtm(shift: float, scale: float) -> None:
    rng = np.random.default_rng(1)
    x = _features(rng, 600, 48, 0.0, 1.0)
    y = _features(rng, 500, 48, shift, scale)
    ours = frechet_distance(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
    reference = _scipy_frechet(x, y)
    assert ours == pytest.approx(reference, rel=1e-8, abs=1e-8)


def test_frechet_of_identical_sets_is_zero_and_symmetric() -> None:
    rng = np.random.default_rng(2)
    x, y = _features(rng, 300, 32, 0.0, 1.0), _features(rng, 300, 32, 0.5, 1.3)
    mu, s = x.mean(0), np.cov(x, rowvar=False)
    assert abs(frechet_distance(mu, s, mu, s)) < 1e-9
    ab = frechet_distance(mu, s, y.mean(0), np.cov(y, rowvar=False))
    ba = frechet_distance(y.mean(0), np.cov(y, rowvar=False), mu, s)
    assert ab == pytest.approx(ba, rel=1e-10)
    assert ab > 0.1


def test_frechet_rank_deficient_is_finite_and_nonnegative() -> None:
    rng = np.random.default_rng(3)
    x, y = _features(rng, 10, 64, 0.0, 1.0), _features(rng, 12, 64, 0.0, 1.0)  # fewer samples than dims
    value = frechet_distance(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
    assert np.isfinite(value) and value > 0


def test_streaming_stats_equal_batch_stats_for_any_batching() -> None:
    rng = np.random.default_rng(4)
    x = _features(rng, 257, 40, 5.0, 1.0).astype(np.float32)  # offset mean: catches cancellation
    by_one, by_many, whole = FeatureStats(40), FeatureStats(40), FeatureStats(40)
    for row in x:
        by_one.update(row[None])
    for start in range(0, len(x), 64):
        by_many.update(x[start:start + 64])
    whole.update(x)
    exact_cov = np.cov(x.astype(np.float64), rowvar=False)
    for stats in (by_one, by_many, whole):
        assert stats.count == 257
        np.testing.assert_allclose(stats.mean, x.astype(np.float64).mean(0), rtol=0, atol=1e-12)
        np.testing.assert_allclose(stats.covariance(), exact_cov, rtol=0, atol=1e-12)
    y = _features(rng, 200, 40, 5.2, 1.1)
    other = FeatureStats(40)
    other.update(y)
    assert stats_distance(by_one, other) == pytest.approx(stats_distance(by_many, other), rel=1e-5)


def test_merge_and_cache_round_trip() -> None:
    rng = np.random.default_rng(5)
    x = _features(rng, 90, 16, 1.0, 1.0)
    a, b, both = FeatureStats(16), FeatureStats(16), FeatureStats(16)
    a.update(x[:30])
    b.update(x[30:])
    both.update(x)
    a.merge(FeatureStats.from_arrays(b.to_arrays()))
    np.testing.assert_allclose(a.covariance(), both.covariance(), atol=1e-12)
    assert a.count == both.count == 90
    with pytest.raises(ValueError, match="at least 2"):
        FeatureStats(16).covariance()
    with pytest.raises(ValueError):
        a.update(np.zeros((3, 15)))
