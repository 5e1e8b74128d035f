"""Make torchvision 0.28 importable beside the CPU-only torch 2.13.0 wheel.

Why: PyPI's torchvision 0.28.0 ships a CUDA-linked ``_C.so``. Beside the CPU torch wheel its compiled
operators never load, and ``torchvision/_meta_registrations.py`` then fails at import with
``RuntimeError: operator torchvision::nms does not exist``. lpips, torchmetrics and pytorch-fid all import
torchvision, so the whole metric stack would be unusable. We chose this shim over the alternative
(torch 2.14.1 + torchvision 0.29.1 CUDA build, a 5.5 GB environment) to keep installs small.

What it does: on exactly that error it defines the ``torchvision::nms``/``qnms`` schemas with
``torch.library`` and registers a pure-torch greedy NMS kernel for CPU, then imports torchvision again.
Everything we use (model definitions, transforms, ``ops.nms``) then works; ``torchvision.io`` image
decoding stays unavailable (we decode with PIL/PyAV/decord). Where torchvision imports normally
(a matching CUDA build, or a future fixed wheel) or is absent, this module does nothing.
It must run before anything imports torchvision, so ``exprbench/__init__.py`` imports it first.
"""

from __future__ import annotations

import sys

import torch

_library: torch.library.Library | None = None  # kept alive: dropping it unregisters the operators


def _greedy_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Standard greedy NMS: keep the best box, suppress boxes overlapping it above the threshold."""
    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=boxes.device)
    order = torch.argsort(scores, descending=True)
    b = boxes[order].float()
    area = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.maximum(b[:, None, :2], b[None, :, :2])
    rb = torch.minimum(b[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    iou = inter / (area[:, None] + area[None, :] - inter).clamp(min=1e-12)
    suppressed = torch.zeros(len(b), dtype=torch.bool)
    keep = []
    for i in range(len(b)):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return order[torch.tensor(keep, dtype=torch.long)]


def _define_missing_ops() -> None:
    global _library
    _library = torch.library.Library("torchvision", "DEF")
    _library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _library.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _library.impl("nms", _greedy_nms, "CPU")


def ensure_torchvision_importable() -> None:
    """Import torchvision, repairing the missing-operator failure described in the module docstring."""
    try:
        import torchvision  # noqa: F401
    except ImportError:
        return
    except RuntimeError as exc:
        if "torchvision::nms" not in str(exc):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        _define_missing_ops()
        import torchvision
        import torchvision.extension

        torchvision.extension._has_ops = lambda: True


ensure_torchvision_importable()
