"""Benchmark layout (manifest), construction (``prepare``) and result validation."""

from exprbench.benchmark.manifest import (
    MANIFEST_SCHEMA,
    Benchmark,
    Item,
    load_benchmark,
    resolve_inside,
)

__all__ = ["MANIFEST_SCHEMA", "Benchmark", "Item", "load_benchmark", "resolve_inside"]
