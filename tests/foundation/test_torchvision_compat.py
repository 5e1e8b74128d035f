"""The torchvision shim: torchvision, lpips and torchmetrics import, and NMS is correct."""

import subprocess
import sys

import torch

import exprbench  # noqa: F401


def test_stack_imports_in_a_fresh_interpreter():
    code = "import exprbench, torchvision, lpips, torchmetrics.image, pytorch_fid.fid_score; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_nms_matches_greedy_definition():
    from torchvision.ops import batched_nms, nms

    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 9, 9.5]], dtype=torch.float)
    scores = torch.tensor([0.9, 0.95, 0.7, 0.1])
    # box 1 (best) suppresses 0 (IoU 0.68) and 3; box 2 is disjoint
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.99).tolist() == [1, 0, 2, 3]
    assert nms(boxes[:0], scores[:0], 0.5).numel() == 0
    # different classes never suppress each other
    assert sorted(batched_nms(boxes, scores, torch.tensor([0, 1, 0, 0]), 0.5).tolist()) == [0, 1, 2]


def test_torchvision_models_build():
    import torchvision

    model = torchvision.models.alexnet(weights=None)
    assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)
