"""The metric registry: one ``MetricSpec`` per metric, looked up by name, listed in protocol order.

Explicit registration with validation, in the style of torch-fidelity's ``register_*`` functions. A
spec holds the metric's ``MetricProtocol`` entry (so the registry cannot disagree with the protocol),
the ``kind`` that tells eval how to feed it, what it consumes, and a factory. ``exprbench eval`` drives
every metric through these fields alone: adding a metric is its module (which registers it; the
package imports every module in it) plus its entry in ``exprbench.protocol``, nothing else.

Kinds and what they consume:

- ``face``: per face, the face-analysis fields named in ``consumes`` (``FaceTracks`` fields:
  landmarks, blendshapes, pose, gaze, identity) of the generated face, of its reference face (driving
  video or ground truth) and the portrait's identity; ``factory(FacePair) -> FaceScore``.
- ``paired``: frame i of the generated video against frame i of the ground truth, streamed in chunks;
  ``factory(device=..., batch_size=...)`` builds a ``PairedVideoMetric``.
- ``set``: features of every video of a split pooled into one distance; ``factory(device=...,
  batch_size=...)`` builds a ``SetMetric``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from exprbench import protocol as protocol_table
from exprbench.protocol import Direction, MetricProtocol, Mode, Need, metric_protocol

Kind = Literal["paired", "set", "face"]
KINDS: tuple[Kind, ...] = ("face", "paired", "set")
# the FaceTracks fields a face metric may consume (exprbench.faces.result)
FACE_FIELDS = ("landmarks", "blendshapes", "pose", "gaze", "identity")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class MetricSpec:
    """What eval needs to know about a metric without running it: its protocol entry, how it is fed
    (``kind``, ``consumes``) and how to build it (``factory``)."""

    protocol: MetricProtocol
    kind: Kind
    factory: Callable[..., Any]
    consumes: tuple[str, ...] = ()  # face metrics: the FaceTracks fields they read

    @classmethod
    def from_protocol(cls, name: str, kind: Kind, factory: Callable[..., Any],
                      consumes: tuple[str, ...] = ()) -> MetricSpec:
        return cls(protocol=metric_protocol(name), kind=kind, factory=factory, consumes=consumes)

    @property
    def name(self) -> str:
        return self.protocol.name

    @property
    def key(self) -> str:
        return self.protocol.key

    @property
    def direction(self) -> Direction:
        return self.protocol.direction

    @property
    def modes(self) -> tuple[Mode, ...]:
        return self.protocol.modes

    @property
    def needs(self) -> tuple[Need, ...]:
        return self.protocol.needs

    @property
    def unit(self) -> str:
        return self.protocol.unit

    @property
    def description(self) -> str:
        return f"{self.protocol.title}: {self.protocol.definition}"

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"


_REGISTRY: dict[str, MetricSpec] = {}


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add ``spec``. Refused: a name that is not a lowercase identifier, a protocol entry that is not the
    protocol table's own, an unknown kind, a face metric that consumes nothing or an unknown field, and
    a second registration of a name."""
    if not _NAME.match(spec.name):
        raise ValueError(f"metric name {spec.name!r} must be a lowercase identifier")
    try:
        entry = metric_protocol(spec.name)
    except KeyError:
        raise ValueError(f"metric {spec.name!r} has no entry in protocol {protocol_table.PROTOCOL_VERSION}; add one to "
                         "exprbench/protocol.py first") from None
    if spec.protocol != entry:
        raise ValueError(f"metric {spec.name!r} carries a protocol entry that differs from protocol "
                         f"{protocol_table.PROTOCOL_VERSION}'s (key {spec.key!r}, modes {spec.modes}); use "
                         "MetricSpec.from_protocol")
    if spec.kind not in KINDS:
        raise ValueError(f"metric {spec.name!r}: kind must be one of {', '.join(KINDS)}, not {spec.kind!r}")
    if spec.kind == "face" and (not spec.consumes or set(spec.consumes) - set(FACE_FIELDS)):
        raise ValueError(f"face metric {spec.name!r} must consume some of {', '.join(FACE_FIELDS)}, "
                         f"not {spec.consumes!r}")
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


def all_metrics(kind: Kind | None = None) -> list[MetricSpec]:
    """Registered metrics in the protocol table's order (the column order of every output), optionally
    only those of one ``kind``. The order is the protocol's, not the import order, so where a metric
    module sits changes no file eval writes."""
    order = {entry.name: i for i, entry in enumerate(protocol_table.PROTOCOL.metrics)}
    specs = sorted(_REGISTRY.values(), key=lambda s: order.get(s.name, len(order)))
    return [s for s in specs if kind is None or s.kind == kind]
