"""Fixtures of the GPU checks: the mini benchmark as tests/benchmark/conftest.py builds it, when the
sample media are installed (a bare GPU machine has none: those tests skip)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def mini(tmp_path_factory):
    try:
        from exprbench.assets import asset_path
        from exprbench.benchmark import load_benchmark
        from exprbench.benchmark.prepare import prepare_sample

        asset_path("sample_pexels")
    except Exception as exc:  # no video stack or no sample media on this machine
        pytest.skip(f"the mini benchmark cannot be built here: {exc}")
    root = tmp_path_factory.mktemp("bench") / "mini"
    prepare_sample(root, frames=16)
    return load_benchmark(root)
