"""The reference FantasyPortrait model on diffusers' Wan2.1 (extra ``[model]``).

``import exprbench`` first: it makes PyPI's torchvision importable beside the CPU torch wheel, which
transformers and diffusers import (see ``exprbench/_torchvision_compat.py``).
"""

import exprbench  # noqa: F401
