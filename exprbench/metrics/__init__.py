"""ExprBench metrics: a registry of versioned metrics (``fid@v2``, ``psnr@v2``, ...).

Importing this package registers every metric; ``all_metrics()`` lists them for eval. The protocol
each metric follows is in ``exprbench.protocol``.
"""

from exprbench.metrics import aed, apd, csim, csim_gap, fid, fvd, gaze_mae, lmd, lpips, motion, psnr, ssim  # noqa: F401,I001  (register)
from exprbench.metrics.base import FeatureNetwork, MetricUnavailable, PairedVideoMetric, SetMetric, SetScore, VideoScore
from exprbench.metrics.frames import crop_regions, face_region, prepare, resize_unit, to_unit_tensor
from exprbench.metrics.frechet import FeatureStats, frechet_distance
from exprbench.metrics.registry import MetricSpec, all_metrics, get_metric, register_metric

__all__ = ["FeatureNetwork", "FeatureStats", "MetricSpec", "MetricUnavailable", "PairedVideoMetric", "SetMetric",
           "SetScore", "VideoScore", "all_metrics", "crop_regions", "face_region", "frechet_distance", "get_metric",
           "prepare", "register_metric", "resize_unit", "to_unit_tensor"]
