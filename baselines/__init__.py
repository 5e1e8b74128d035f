"""Baselines for ExprBench: the adapter interface, the generation harness, CPU baselines, external methods.

``get_adapter(name, config)`` returns an adapter; ``generate_items`` runs it over benchmark items and
writes normalised results plus a JSON sidecar each. See ``baselines/README.md`` for configuring the
published methods.
"""

from baselines.adapter import Adapter
from baselines.harness import (
           ItemOutcome,
           generate_items,
           is_finished,
           run_item,
           sidecar_path,
)
from baselines.job import Job, MethodOutput, build_job
from baselines.registry import adapter_names, get_adapter, register_adapter

__all__ = ["Adapter", "ItemOutcome", "Job", "MethodOutput", "adapter_names", "build_job", "generate_items",
           "get_adapter", "is_finished", "register_adapter", "run_item", "sidecar_path"]
