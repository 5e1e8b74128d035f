"""Shared, session-scoped analyses of the real sample media (each is computed once per test run)."""

from __future__ import annotations

import numpy as np
import pytest

from exprbench.assets import asset_path
from exprbench.faces import analyze_image, analyze_video
from exprbench.video import load_image


@pytest.fixture(scope="session")
def pexels():
    """The whole Pexels clip (strong expressions) resampled to 4 fps: about 79 frames."""
    return analyze_video(asset_path("sample_pexels"), fps=4, cache=False)


@pytest.fixture(scope="session")
def man_clip():
    """The single-face clip of a man (a different person from the Pexels woman), first 40 frames."""
    return analyze_video(asset_path("sample_single_face_video"), max_frames=40, cache=False)


@pytest.fixture(scope="session")
def face_noface():
    return analyze_video(asset_path("sample_face_noface"), identity_every=0, cache=False)


@pytest.fixture(scope="session")
def group_image() -> np.ndarray:
    return load_image(asset_path("sample_multi_face"))


@pytest.fixture(scope="session")
def group(group_image):
    return analyze_image(group_image)
