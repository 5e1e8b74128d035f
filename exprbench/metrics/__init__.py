"""ExprBench metrics: a registry of versioned metrics (``fid@v2``, ``psnr@v2``, ...).

Importing this package imports every module in it, and each metric module registers its metrics
(``register_metric`` at its bottom), so a new metric is one new module plus its protocol entry:
nothing here lists them. ``all_metrics()`` gives them in the protocol table's order for eval; the
protocol each follows is in ``exprbench.protocol``.
"""

import importlib
import pkgutil

from exprbench.metrics.base import (
    FeatureNetwork,
    FeatureStream,
    MetricUnavailable,
    PairedVideoMetric,
    SetMetric,
    SetScore,
    VideoScore,
)
from exprbench.metrics.face_base import FacePair, FaceScore
from exprbench.metrics.frames import (
    crop_regions,
    face_region,
    prepare,
    resize_unit,
    to_unit_tensor,
)
from exprbench.metrics.frechet import FeatureStats, frechet_distance
from exprbench.metrics.registry import (
    MetricSpec,
    all_metrics,
    get_metric,
    register_metric,
)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["FacePair", "FaceScore", "FeatureNetwork", "FeatureStats", "FeatureStream", "MetricSpec",
           "MetricUnavailable", "PairedVideoMetric", "SetMetric", "SetScore", "VideoScore", "all_metrics",
           "crop_regions", "face_region", "frechet_distance", "get_metric", "prepare", "register_metric",
           "resize_unit", "to_unit_tensor"]
