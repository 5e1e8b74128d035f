"""CLI wiring and PyAV video round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from tiny_fantasy import build_tiny_adapter, flat_adapter_state

from fantasy_model.checkpoint import official_layout
from fantasy_model.cli import main
from fantasy_model.video_io import read_video, write_video


def test_cli_help_lists_commands_and_options():
    result = CliRunner().invoke(main, ["animate", "--help"])
    assert result.exit_code == 0
    for option in ("--driving", "--face-box", "--mask-mode", "--offload", "--fp8", "--window", "--expression-cfg"):
        assert option in result.output


def test_convert_checkpoint_rejects_a_non_full_size_checkpoint_by_name(tmp_path):
    transformer, encoder, _ = build_tiny_adapter()
    path = tmp_path / "tiny.ckpt"
    torch.save(official_layout(flat_adapter_state(transformer, encoder)), path)
    result = CliRunner().invoke(main, ["convert-checkpoint", str(path), str(tmp_path / "out.safetensors")])
    assert result.exit_code != 0
    assert "tiny.ckpt" in str(result.exception) and "missing key" in str(result.exception)
    assert not (tmp_path / "out.safetensors").exists()


def test_video_round_trip(tmp_path):
    frames = np.zeros((6, 32, 48, 3), np.uint8)
    frames[:, :, :24] = 200
    frames[3:, :16] = 60
    write_video(tmp_path / "clip.mp4", frames, 25)
    decoded, fps = read_video(tmp_path / "clip.mp4")
    assert decoded.shape == frames.shape and fps == pytest.approx(25)
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 4
    with pytest.raises(FileNotFoundError, match="driving video"):
        read_video(tmp_path / "missing.mp4")
