"""The names ``exprbench generate --method`` looks up: the shipped adapters plus any registered in code.

A name missing from the registry can still be run when its methods-config table says
``kind = "jobfile"``: any script speaking the job-file protocol (``baselines/external/methods.py``).
"""

from __future__ import annotations

from typing import Any

from baselines.adapter import Adapter, AdapterFactory
from baselines.builtins import BUILTIN_ADAPTERS
from baselines.external.methods import JobFileAdapter
from exprbench.errors import ExprBenchError

_REGISTRY: dict[str, AdapterFactory] = dict(BUILTIN_ADAPTERS)


class UnknownMethod(ExprBenchError):
    pass


def register_adapter(name: str, factory: AdapterFactory) -> None:
    """Register ``factory(method_config) -> Adapter`` under ``name`` (the results folder name)."""
    if name in _REGISTRY:
        raise ValueError(f"adapter {name!r} is already registered")
    _REGISTRY[name] = factory


def adapter_names() -> list[str]:
    return sorted(_REGISTRY)


def get_adapter(name: str, method_config: dict[str, Any] | None = None) -> Adapter:
    """The adapter for ``name``, built from its section of the methods config (``{}`` if none)."""
    factory = _REGISTRY.get(name)
    if factory is None:
        if method_config and method_config.get("kind") == "jobfile":
            return JobFileAdapter(name, method_config)
        raise UnknownMethod(f"unknown method {name!r}: choose one of {', '.join(adapter_names())}, or add "
                            f"[{name}] with kind = \"jobfile\" to the methods config")
    return factory(method_config or {})
