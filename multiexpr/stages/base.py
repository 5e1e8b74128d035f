"""What every stage is: a typed dataclass with ``setup()`` and ``process()``, the fields it reads and writes,
and the one result type that drops a task.

``process`` keeps a task by returning ``None`` (having written what it learned onto the task), drops it by
returning a :class:`Drop`, or, for a stage that splits one task into many (the shot split), returns the
list of new tasks. A drop is a value, never a bare string: its ``code`` is what ``stats.json`` counts
and ``rejects.parquet`` stores in ``reason``, so counting needs no parsing of messages.

Each stage declares the task fields it needs (``reads``) and the ones it fills (``writes``), as NeMo
Curator stages declare their inputs and outputs; :func:`check_order` refuses an order in which a stage
would read a field no earlier stage wrote.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from multiexpr.config import BuildConfig


@dataclass(frozen=True)
class Drop:
    """Why a task leaves the pipeline: ``code`` (a reason code such as ``too_short``) and ``detail`` (the
    measured values, in words)."""

    code: str
    detail: str

    @property
    def message(self) -> str:
        """``"code: detail"``, the text ``rejects.parquet`` stores in ``detail``."""
        return f"{self.code}: {self.detail}"


@dataclass
class Stage(ABC):
    """Base: ``setup`` once per worker, ``process`` per task."""

    config: BuildConfig
    name: ClassVar[str]
    reads: ClassVar[tuple[str, ...]] = ()  # task fields this stage needs, e.g. "Candidate.tracks"
    writes: ClassVar[tuple[str, ...]] = ()  # task fields it fills (when it keeps the task)

    def setup(self) -> None:
        """Load models or other per-worker state (default: nothing)."""

    @abstractmethod
    def process(self, task: Any) -> Drop | list[Any] | None:
        """Keep (``None``), drop (:class:`Drop`) or split (a list of new tasks) ``task``."""


def check_order(stages: Sequence[Stage], given: Iterable[str]) -> None:
    """Raise ``ValueError`` if a stage reads a field that neither ``given`` nor an earlier stage provides."""
    available = set(given)
    for stage in stages:
        missing = [f for f in stage.reads if f not in available]
        if missing:
            raise ValueError(f"stage {stage.name} reads {', '.join(missing)}, which no earlier stage writes")
        available.update(stage.writes)
