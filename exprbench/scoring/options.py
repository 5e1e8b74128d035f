"""What an eval run is asked to compute, and what scoring one item produced."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class EvalOptions:
    """Everything that changes what ``evaluate`` computes (recorded in config.json)."""

    split: str | None = None
    items: list[str] | None = None
    workers: int = 1
    keep_going: bool = False
    allow_short: bool = False
    require: tuple[str, ...] = ()
    metrics: tuple[str, ...] | None = None  # None: every metric of the protocol
    device: str = "auto"  # pixel and feature metrics (auto: CUDA when present); face analysis stays on the CPU
    batch_size: int | None = None  # frames (FVD: windows) per device batch; None: each metric's default

    def selects(self, name: str) -> bool:
        """Whether metric ``name`` is asked for (``metrics`` None: every metric)."""
        return self.metrics is None or name in self.metrics


@dataclass
class ItemOutcome:
    """What scoring one item produced: rows (one per face), set-metric features, timings, or an error."""

    item_id: str
    rows: list[dict] = field(default_factory=list)
    features: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)  # metric -> side -> videos
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    decode_errors: int = 0  # decoder messages while decoding the generated video (exprbench.decode_log)
