"""Streaming float64 feature statistics and the Frechet distance between two Gaussians.

Why streaming: FID over all frames of a split (tens of thousands of frames) must not keep every
feature in memory, and the result must not depend on how frames were batched (ignite#2423 reported
batch-size dependent FID). ``FeatureStats`` keeps (count, mean, centred second moment) in float64 and
merges batches with the pairwise update of Chan, Golub and LeVeque, which is exact in exact
arithmetic for any batching and, unlike raw sums of outer products, does not cancel catastrophically
when the mean is large. Float32 covariances are a known source of wrong FID (torcheval#192/#220).

The Frechet distance uses the symmetric form Tr((S1 S2)^(1/2)) = sum sqrt(eig(S1^(1/2) S2 S1^(1/2))),
computed with symmetric eigendecompositions: it is real by construction, handles rank-deficient
covariances (fewer samples than dimensions) and is several times faster than a general ``sqrtm``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FeatureStats:
    """Running count, mean and centred second moment (sum of outer products about the mean)."""

    dim: int
    count: int = 0
    mean: np.ndarray | None = None
    m2: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.mean is None:
            self.mean = np.zeros(self.dim, dtype=np.float64)
        if self.m2 is None:
            self.m2 = np.zeros((self.dim, self.dim), dtype=np.float64)

    def update(self, features: np.ndarray) -> None:
        """Add a batch of ``(n, dim)`` features."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) features, got {x.shape}")
        if len(x) == 0:
            return
        batch_mean = x.mean(axis=0)
        centred = x - batch_mean
        self._merge(len(x), batch_mean, centred.T @ centred)

    def merge(self, other: FeatureStats) -> None:
        """Add another accumulator's samples (e.g. from a worker process or a cached video)."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge {other.dim}-d statistics into {self.dim}-d ones")
        if other.count:
            self._merge(other.count, other.mean, other.m2)

    def _merge(self, n_b: int, mean_b: np.ndarray, m2_b: np.ndarray) -> None:
        n_a = self.count
        n = n_a + n_b
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + m2_b + np.outer(delta, delta) * (n_a * n_b / n)
        self.count = n

    def covariance(self) -> np.ndarray:
        """Unbiased (n - 1) covariance, as ``numpy.cov`` and pytorch-fid compute it."""
        if self.count < 2:
            raise ValueError(f"a covariance needs at least 2 samples, have {self.count}")
        return self.m2 / (self.count - 1)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """A plain-array form for caching (``numpy.savez``)."""
        return {"count": np.asarray(self.count), "mean": self.mean, "m2": self.m2}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FeatureStats:
        mean = np.asarray(arrays["mean"], dtype=np.float64)
        return cls(dim=mean.shape[0], count=int(arrays["count"]), mean=mean,
                   m2=np.asarray(arrays["m2"], dtype=np.float64))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    eigval, eigvec = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (eigvec * np.sqrt(np.clip(eigval, 0.0, None))) @ eigvec.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2)) in float64."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}")
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_sqrt = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def stats_distance(a: FeatureStats, b: FeatureStats) -> float:
    """Frechet distance between the Gaussian fits of two accumulators."""
    return frechet_distance(a.mean, a.covariance(), b.mean, b.covariance())
