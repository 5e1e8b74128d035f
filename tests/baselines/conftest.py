"""Shared fixtures: one tiny real-media benchmark per session, and static/warp results on it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from benchfix import build_bench

FAKE_METHOD = Path(__file__).parent / "fake_method.py"


@pytest.fixture(scope="session")
def bench(tmp_path_factory):
    return build_bench(tmp_path_factory.mktemp("bench"))


@pytest.fixture(scope="session")
def cpu_results(bench, tmp_path_factory):
    """static and warp on every item (generated once per session)."""
    from baselines import generate_items, get_adapter

    results = tmp_path_factory.mktemp("results")
    outcomes = {m: generate_items(get_adapter(m), bench, bench.items, results) for m in ("static", "warp")}
    return results, outcomes


def fake_table(mode: str, **extra) -> dict:
    """A methods-config table for the fake method in ``mode`` (runs in this interpreter)."""
    return {"kind": "jobfile", "python": sys.executable, "script": str(FAKE_METHOD), "extra_args": [mode], **extra}
