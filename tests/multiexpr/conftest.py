"""Shared fixtures: the composed sample corpus and one uninterrupted sample build (reference output)."""

from __future__ import annotations

from pathlib import Path

import pytest

from multiexpr.build import build
from multiexpr.sample import compose_sample


@pytest.fixture(scope="session")
def sample_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compose_sample(tmp_path_factory.mktemp("multiexpr_sample") / "sources")


@pytest.fixture(scope="session")
def reference_build(sample_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("multiexpr_reference") / "out"
    build(sample_sources, out)
    return out

