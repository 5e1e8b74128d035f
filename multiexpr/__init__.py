"""Multi-Expr curation: raw videos in, a Hugging Face dataset of multi-face expression clips out."""

import exprbench  # noqa: F401  (installs the torchvision compatibility shim first)
