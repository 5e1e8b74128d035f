"""The names ``exprbench generate --method`` looks up: the shipped adapters plus any registered in code.

A name missing from the registry can still be run when its methods-config table says
``kind = "jobfile"``: any script speaking the job-file protocol (``baselines/external/methods.py``).
Every table is checked here (``check_table``) before an adapter reads it, whether it came from a file or
from code. Adapters that declare ``config_keys`` (every shipped one) get a one-line warning for a key
they do not read: it has no effect on their output, which whoever wrote it probably did not expect.
"""

from __future__ import annotations

import logging
from typing import Any

from baselines.adapter import Adapter, AdapterFactory
from baselines.builtins import BUILTIN_ADAPTERS
from baselines.external.config import check_table
from baselines.external.methods import JobFileAdapter
from exprbench.errors import ExprBenchError, InputError

log = logging.getLogger(__name__)
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
    table = method_config or {}
    where = table.get("__file__")
    check_table(name, table, where)
    factory = _REGISTRY.get(name)
    if factory is not None and table.get("kind") == "jobfile":
        raise InputError(where, f"{name}.kind = \"jobfile\" would replace the shipped {name} adapter",
                         "give your method a table of its own name")
    if factory is None:
        if table.get("kind") != "jobfile":
            if set(table) - {"__file__"}:
                raise InputError(where, f"{name}.kind is not set, and {name} is not a shipped method",
                                 f"set {name}.kind = \"jobfile\" to run it as a job-file script")
            raise UnknownMethod(f"unknown method {name!r}: choose one of {', '.join(adapter_names())}, or add "
                                f"[{name}] with kind = \"jobfile\" to the methods config")
        adapter: Adapter = JobFileAdapter(name, table)
    else:
        adapter = factory(table)
    reads = getattr(adapter, "config_keys", None)
    if reads is not None:
        for key in sorted(set(table) - {"__file__"} - reads):
            log.warning("%s: %s.%s has no effect: the %s method does not read it", where or "methods config", name,
                        key, name)
    return adapter
