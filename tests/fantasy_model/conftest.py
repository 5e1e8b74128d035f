"""Fixtures of tiny FantasyPortrait components for CPU tests (same code paths as 14B)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
from tiny_fantasy import build_tiny_adapter, build_tiny_pipeline


@pytest.fixture(scope="module")
def tiny_adapter():
    return build_tiny_adapter()


@pytest.fixture(scope="module")
def tiny_pipeline():
    return build_tiny_pipeline()
