"""Shared fixtures: one tiny real-media benchmark per session, and static/warp results on it."""

from __future__ import annotations

import pytest
from benchfix import build_bench


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
