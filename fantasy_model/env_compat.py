"""Work around a torchvision binary that does not match the installed torch.

PyPI's Linux torchvision wheels link against CUDA builds of torch; next to a CPU-only torch their
C extension fails to load and *any* import of transformers or diffusers then raises. FantasyPortrait
does not use torchvision, so when (and only when) it is broken this marks it as absent, letting
transformers fall back to its PIL image processors. A working torchvision is left alone.
"""

from __future__ import annotations

import importlib
import sys
import warnings


def hide_broken_torchvision() -> bool:
    """Returns True if torchvision was broken and is now hidden from this process."""
    if "torchvision" in sys.modules:
        return sys.modules["torchvision"] is None
    try:
        importlib.import_module("torchvision")
    except (RuntimeError, OSError, ImportError) as error:
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision"] = None  # importlib.util.find_spec now reports it as missing
        warnings.warn(f"torchvision does not load with this torch ({error}); continuing without it", stacklevel=2)
        return True
    return False
