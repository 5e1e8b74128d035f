"""Set-metric features of reference (ground-truth) videos, cached by content hash.

Why: every method scored on a benchmark compares against the same ground truth; its Inception and I3D
features cost as much as the method's own, so they are computed once per video, region and network.
The key covers the file's content hash, the metric, the network's name, the face region and the
protocol version, so a changed file, network or protocol misses instead of reading stale features.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from exprbench.assets import home
from exprbench.faces.cache import content_hash
from exprbench.files import atomic_path
from exprbench.metrics import SetMetric
from exprbench.protocol import PROTOCOL


def _path(video: Path, metric: SetMetric, region: str) -> Path:
    material = f"{content_hash(video)}|{metric.key}|{metric.network.name}|{region}|{PROTOCOL.version}"
    return home() / "cache" / "features" / f"{hashlib.sha256(material.encode()).hexdigest()[:32]}.npy"


def load_features(video: Path, metric: SetMetric, region: str) -> np.ndarray | None:
    """The cached features of ``video`` (face region ``region``), or None when not cached."""
    path = _path(video, metric, region)
    return np.load(path, allow_pickle=False) if path.is_file() else None


def store_features(video: Path, metric: SetMetric, region: str, features: np.ndarray) -> None:
    with atomic_path(_path(video, metric, region)) as tmp, open(tmp, "wb") as handle:
        np.save(handle, features)
