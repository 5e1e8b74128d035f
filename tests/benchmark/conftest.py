"""A small real benchmark shared by the benchmark tests: the embedded sample with 16-frame clips."""

import pytest
from bench_media import FRAMES

from exprbench.benchmark import load_benchmark
from exprbench.benchmark.prepare import prepare_sample


@pytest.fixture(scope="session")
def mini(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench") / "mini"
    prepare_sample(root, frames=FRAMES)
    return load_benchmark(root)
