"""What config.json records about a run: enough to tell whether two runs can be compared.

The toolkit and package versions, every asset's digest, the options, the device and the whole protocol
(``protocol_dict``): a number from a run is only meaningful together with these.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import platform
from pathlib import Path

from exprbench import __version__
from exprbench.assets import all_assets, expected_digest
from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.metrics.base import resolve_device
from exprbench.protocol import protocol_dict
from exprbench.scoring.options import EvalOptions

_PACKAGES = ("torch", "mediapipe", "dlib-bin", "lpips", "torchmetrics", "pytorch-fid", "numpy", "av", "decord")


def run_config(bench: Benchmark, results: Path, method: str, options: EvalOptions) -> dict:
    """config.json's content (before JSON-safe conversion)."""
    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            packages[name] = None
    return {
        "exprbench": __version__, "method": method, "benchmark": bench.name, "bench_root": str(bench.root),
        "results": str(results), "options": {k: (list(v) if isinstance(v, tuple) else v)
                                             for k, v in options.__dict__.items()},
        "protocol": protocol_dict(), "packages": packages,
        "assets": {a.name: expected_digest(a) for a in all_assets()},
        "python": platform.python_version(), "platform": platform.platform(),
        "device": str(resolve_device(options.device)),
    }


def method_version(results: Path, method: str, items: list[Item]) -> str | None:
    """The adapter version recorded by ``exprbench generate`` in the results' sidecars, if they agree."""
    versions = set()
    for item in items:
        sidecar = results / method / f"{item.id}.json"
        if sidecar.is_file():
            try:
                versions.add(json.loads(sidecar.read_text()).get("adapter_version"))
            except json.JSONDecodeError:
                return None
    return versions.pop() if len(versions) == 1 and None not in versions else None
