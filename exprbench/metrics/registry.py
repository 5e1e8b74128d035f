"""The metric registry: one ``MetricSpec`` per metric, looked up by name.

Explicit registration with validation, in the style of torch-fidelity's ``register_*`` functions:
``exprbench eval`` iterates ``all_metrics()`` to decide what each item needs (ground truth, driving
video, portrait) and which modes a metric applies to, and writes results under ``spec.key``. The
descriptive fields come from ``exprbench.protocol`` so the registry cannot disagree with the protocol.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from exprbench.protocol import Direction, MetricProtocol, Mode, Need, metric_protocol

Kind = Literal["paired", "set", "face"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class MetricSpec:
    """What eval needs to know about a metric without running it.

    ``kind``: ``paired`` (per frame against a reference video: PSNR, SSIM, LPIPS), ``set`` (one value
    from all frames or windows of a split: FID, FVD) or ``face`` (face-analysis based: LMD, AED, ...).
    ``factory`` builds the metric object (``PairedVideoMetric`` / ``SetMetric`` / the lead's face
    metric classes).
    """

    name: str
    key: str
    direction: Direction
    modes: tuple[Mode, ...]
    needs: tuple[Need, ...]
    unit: str
    description: str
    kind: Kind
    factory: Callable[..., Any]
    consumes: str | None = None  # face metrics: the FaceTracks field they read ("blendshapes", "pose", ...)

    @classmethod
    def from_protocol(cls, name: str, kind: Kind, factory: Callable[..., Any],
                      consumes: str | None = None) -> MetricSpec:
        entry: MetricProtocol = metric_protocol(name)
        return cls(name=entry.name, key=entry.key, direction=entry.direction, modes=entry.modes,
                   needs=entry.needs, unit=entry.unit, description=f"{entry.title}: {entry.definition}",
                   kind=kind, factory=factory, consumes=consumes)

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


_REGISTRY: dict[str, MetricSpec] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add ``spec``; names are unique lowercase identifiers and the key must match the protocol's."""
    if not _NAME.match(spec.name):
        raise ValueError(f"metric name {spec.name!r} must be a lowercase identifier")
    expected = metric_protocol(spec.name).key
    if spec.key != expected:
        raise ValueError(f"metric {spec.name!r} has key {spec.key!r}; the protocol defines {expected!r}")
    if spec.direction not in ("lower", "higher"):
        raise ValueError(f"metric {spec.name!r}: direction must be 'lower' or 'higher'")
    if not spec.modes or set(spec.modes) - {"self", "cross"}:
        raise ValueError(f"metric {spec.name!r}: modes must be a non-empty subset of self, cross")
    if set(spec.needs) - {"ground_truth", "driving", "portrait"}:
        raise ValueError(f"metric {spec.name!r}: needs must be among ground_truth, driving, portrait")
    if spec.name in _REGISTRY:
        raise ValueError(f"metric {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def get_metric(name: str) -> MetricSpec:
    """The spec of ``name`` (``fid`` or ``fid@v2``)."""
    bare = name.split("@", 1)[0]
    spec = _REGISTRY.get(bare)
    if spec is None or (bare != name and spec.key != name):
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(s.key for s in all_metrics())}")
    return spec


def all_metrics() -> list[MetricSpec]:
    """Every registered metric, in registration order."""
    return list(_REGISTRY.values())
