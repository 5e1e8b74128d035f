"""benchmarks/gpu_check.py on the CPU: the dry run, and steps parity, memory modes and masking at tiny size,
so every code path of the GPU check runs here (the full-size step is the same code at 14B on CUDA)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_dry_run_lists_every_step_and_wheel_and_the_size(gpu_check, tmp_path, capsys):
    assert gpu_check.main(["--dry-run", "--wheels", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert sum(line.startswith("step ") for line in out.splitlines()) == len(gpu_check.STEPS)
    assert sum(line.startswith("wheel ") for line in out.splitlines()) == len(gpu_check.WHEELS)
    assert "NOT DOWNLOADED" in out and "MiB (under the 64 MiB limit)" in out and "not ready" in out
    assert not any(w.split("==")[0] in ("torch", "torchvision", "triton") for w in gpu_check.WHEELS)


def test_install_unpacks_only_missing_distributions(gpu_check, tmp_path, monkeypatch):
    import zipfile

    monkeypatch.setattr(gpu_check, "_use_site", lambda site: None)
    for name in ("numpy-9.9-py3-none-any.whl", "notinstalled_pkg-1.0-py3-none-any.whl"):
        with zipfile.ZipFile(tmp_path / name, "w") as whl:
            whl.writestr(f"{name.split('-')[0]}/__init__.py", "")
    row = gpu_check.step_install(tmp_path)[0]
    assert row.ok and row.data["unpacked"] == ["notinstalled_pkg-1.0-py3-none-any.whl"]
    assert (tmp_path / "site" / "notinstalled_pkg" / "__init__.py").is_file()
    assert not (tmp_path / "site" / "numpy").exists()


def test_tiny_run_on_cpu_passes_every_step_and_writes_json(gpu_check, mini, tmp_path, capsys):
    from exprbench.parity import lagged_pair, save_bundle, score_frames
    from exprbench.video import read_video

    truth = read_video(mini.path(mini.item("single-self-pexels_00s").ground_truth), [0, 1, 2])
    save_bundle(tmp_path / gpu_check.BUNDLE_NAME, "single-self-pexels_00s", truth,
                score_frames(*lagged_pair(truth), "cpu"))
    status = gpu_check.main(["--device", "cpu", "--tiny", "--steps", "parity,full-size,masked",
                             "--wheels", str(tmp_path), "--out", str(tmp_path / "out")])
    table = capsys.readouterr().out
    result = json.loads((tmp_path / "out" / "gpu_check.json").read_text())
    assert status == 0 and result["ok"], table
    steps = {row["step"] for row in result["rows"]}
    assert {"parity", "memory-tiny", "masked", "total"} <= steps
    modes = [row["data"]["mode"] for row in result["rows"] if row["step"] == "memory-tiny"]
    assert modes == list(gpu_check.MEMORY_MODES)
    assert all(row["data"]["finite_frames"] for row in result["rows"] if row["step"] == "memory-tiny")
    assert sum(row["step"] == "masked" and "isolated" in row["result"] for row in result["rows"]) == 2
    assert any(row["check"].endswith("psnr@v2") and row["ok"] for row in result["rows"])


def test_a_failing_step_makes_the_exit_status_non_zero(gpu_check, tmp_path):
    status = gpu_check.main(["--device", "cpu", "--tiny", "--steps", "parity", "--wheels", str(tmp_path)])
    assert status == 1  # no bundle: the parity row fails
