"""One metric object per process, device and batch size, built from the registry's factory.

Why cached: LPIPS, Inception and I3D weights take seconds to load; an eval scores hundreds of items
in the same worker process. Tests put stand-in networks under ``metric_instance_key``.
"""

from __future__ import annotations

import logging

from exprbench.metrics import (
    MetricUnavailable,
    PairedVideoMetric,
    SetMetric,
    all_metrics,
    get_metric,
)
from exprbench.scoring.options import EvalOptions

log = logging.getLogger(__name__)

_INSTANCES: dict[str, PairedVideoMetric | SetMetric] = {}


def metric_instance_key(name: str, device: str = "auto", batch_size: int | None = None) -> str:
    """The per-process cache key of a metric instance (tests put stand-in networks under it)."""
    return f"{name}|{device}|{batch_size}"


def metric_instance(name: str, device: str = "auto", batch_size: int | None = None) -> PairedVideoMetric | SetMetric:
    """The process's instance of paired or set metric ``name``; raises ``MetricUnavailable`` without
    its weights (set metrics), before any item is scored."""
    key = metric_instance_key(name, device, batch_size)
    if key not in _INSTANCES:
        sizing = {"device": device} if batch_size is None else {"device": device, "batch_size": batch_size}
        _INSTANCES[key] = get_metric(name).factory(**sizing)
    return _INSTANCES[key]


def set_availability(options: EvalOptions) -> tuple[tuple[str, ...], dict[str, str]]:
    """The selected set metrics whose networks load here, and ``{key: why}`` for those that do not.

    A metric named in ``options.require`` that cannot load is an error instead of a warning."""
    available, unavailable = [], {}
    for spec in all_metrics("set"):
        if not options.selects(spec.name):
            continue
        try:
            metric_instance(spec.name, options.device, options.batch_size)
            available.append(spec.name)
        except MetricUnavailable as exc:
            if spec.name in options.require:
                raise
            unavailable[spec.key] = str(exc)
            log.warning("%s", exc)
    return tuple(available), unavailable
