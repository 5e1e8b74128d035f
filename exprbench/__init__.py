"""ExprBench: benchmark, metrics and face analysis for (multi-character) portrait animation."""

from exprbench import _torchvision_compat  # noqa: F401  (must run before anything imports torchvision)

__version__ = "0.1.0"
