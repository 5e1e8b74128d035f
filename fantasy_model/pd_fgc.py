"""PD-FGC motion encoder (`FanEncoder`): aligned 224x224 face -> 554-d expression vector.

Architecture of Wang et al. 2023 (CVPR, "Progressive Disentangled Representation Learning for
Fine-Grained Controllable Talking Head Synthesis") as used by FantasyPortrait (spec §2.5). Module
names follow the released `pd_fpg.pth` so it loads without renaming. The release loads it with
``strict=False``; here every tensor the encoder needs must be present with its shape (else
`CheckpointError`), while extra tensors (the file may carry more of PD-FGC than the motion encoder)
are reported in one warning and dropped.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from fantasy_model.checkpoint import CheckpointError, select_expected


class ConvBlock(nn.Module):
    """FAN residual block: three pre-activated 3x3 convs (C/2, C/4, C/4) concatenated, plus a shortcut."""

    def __init__(self, in_planes: int, out_planes: int) -> None:
        super().__init__()
        half, quarter = out_planes // 2, out_planes // 4
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, half, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(half)
        self.conv2 = nn.Conv2d(half, quarter, 3, 1, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(quarter)
        self.conv3 = nn.Conv2d(quarter, quarter, 3, 1, 1, bias=False)
        self.downsample = (
            nn.Sequential(nn.BatchNorm2d(in_planes), nn.ReLU(True), nn.Conv2d(in_planes, out_planes, 1, 1, bias=False))
            if in_planes != out_planes
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = self.conv1(F.relu(self.bn1(x)))
        out2 = self.conv2(F.relu(self.bn2(out1)))
        out3 = self.conv3(F.relu(self.bn3(out2)))
        residual = x if self.downsample is None else self.downsample(x)
        return torch.cat((out1, out2, out3), 1) + residual


class HourGlass(nn.Module):
    """Recursive hourglass of depth `depth` on 256 channels (names b1_/b2_/b2_plus_/b3_<level>)."""

    def __init__(self, depth: int, features: int = 256) -> None:
        super().__init__()
        self.depth = depth
        self._build(depth, features)

    def _build(self, level: int, features: int) -> None:
        self.add_module(f"b1_{level}", ConvBlock(features, features))
        self.add_module(f"b2_{level}", ConvBlock(features, features))
        if level > 1:
            self._build(level - 1, features)
        else:
            self.add_module(f"b2_plus_{level}", ConvBlock(features, features))
        self.add_module(f"b3_{level}", ConvBlock(features, features))

    def _run(self, level: int, x: torch.Tensor) -> torch.Tensor:
        up = self._modules[f"b1_{level}"](x)
        low = self._modules[f"b2_{level}"](F.max_pool2d(x, 2, stride=2))
        low = self._run(level - 1, low) if level > 1 else self._modules[f"b2_plus_{level}"](low)
        low = self._modules[f"b3_{level}"](low)
        return up + F.interpolate(low, size=up.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(self.depth, x)


class FanBackbone(nn.Module):
    """`FAN_use`: one-stack FAN whose 68 heatmaps are reduced to a 28x28 map and a 512-d vector."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = ConvBlock(64, 128)
        self.conv3 = ConvBlock(128, 128)
        self.conv4 = ConvBlock(128, 256)
        self.m0 = HourGlass(4, 256)
        self.top_m_0 = ConvBlock(256, 256)
        self.conv_last0 = nn.Conv2d(256, 256, kernel_size=1)
        self.l0 = nn.Conv2d(256, 68, kernel_size=1)
        self.bn_end0 = nn.BatchNorm2d(256)
        self.conv6 = nn.Conv2d(68, 1, 3, 2, 1)
        self.fc = nn.Linear(28 * 28, 512)
        self.bn5 = nn.BatchNorm2d(68)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(self.conv2(x), 2)
        x = self.conv4(self.conv3(x))
        x = self.top_m_0(self.m0(x))
        x = self.bn_end0(self.conv_last0(x))
        heatmaps = self.l0(F.relu(x))
        net = self.conv6(F.relu(self.bn5(heatmaps)))
        return self.fc(F.relu(net.flatten(1)))


def _trunk() -> nn.Sequential:
    return nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.BatchNorm1d(512), nn.Linear(512, 512))


class FanEncoder(nn.Module):
    """Backbone plus four heads; `forward` returns [head pose 6 | eye 6 | emotion 30 | mouth 512]."""

    def __init__(self, pose_dim: int = 6, eye_dim: int = 6, emo_dim: int = 30) -> None:
        super().__init__()
        self.model = FanBackbone()
        self.to_mouth = _trunk()
        # Unused at inference, but present in pd_fpg.pth; kept so strict loading accounts for it.
        self.mouth_embed = nn.Sequential(nn.ReLU(), nn.Linear(512, 512 - pose_dim - eye_dim))
        self.to_headpose = _trunk()
        self.headpose_embed = nn.Sequential(nn.ReLU(), nn.Linear(512, pose_dim))
        self.to_eye = _trunk()
        self.eye_embed = nn.Sequential(nn.ReLU(), nn.Linear(512, eye_dim))
        self.to_emo = _trunk()
        self.emo_embed = nn.Sequential(nn.ReLU(), nn.Linear(512, emo_dim))

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        """faces: [N, 3, 224, 224] RGB in [-1, 1] -> [N, 554]."""
        x = self.model(faces)
        head_pose = self.headpose_embed(self.to_headpose(x))
        eye = self.eye_embed(self.to_eye(x))
        emotion = self.emo_embed(self.to_emo(x))
        mouth = self.to_mouth(x)  # the release uses the trunk output, not mouth_embed
        return torch.cat([head_pose, eye, emotion, mouth], dim=1)


def _strip_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    for prefix in ("module.", "pd_fpg."):
        if state and all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def load_fan_encoder_state(encoder: FanEncoder, state: dict[str, torch.Tensor], source: str | Path) -> FanEncoder:
    """Copy a PD-FGC state dict into `encoder`: every needed tensor with its shape, extras dropped.

    BatchNorm `num_batches_tracked` counters may be absent (old checkpoints); they do not affect eval.
    """
    state = _strip_prefixes(state)
    expected = {k: tuple(v.shape) for k, v in encoder.state_dict().items()
                if k in state or not k.endswith("num_batches_tracked")}
    state = select_expected(state, expected, source, what="PD-FGC ")
    encoder.load_state_dict(state, strict=False)  # only the optional counters can be absent here
    return encoder.eval()


def load_fan_encoder(path: str | Path) -> FanEncoder:
    """Build a `FanEncoder` from `pd_fpg.pth` (weights-only torch file) or a safetensors file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: PD-FGC weights not found; download pd_fpg.pth from acvlab/FantasyPortrait")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path))
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:
            raise CheckpointError(f"{path}: cannot be read as a weights-only torch checkpoint ({error})") from error
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a state dict, found {type(state).__name__}")
    return load_fan_encoder_state(FanEncoder(), state, path)
