"""Whole builds: the sample's accepted and rejected sets, datasets loading, config refusal, resume after
SIGKILL at several points, the Ray engine, and captioning through the plug-in interface."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from exprbench.files import is_temp_name
from exprbench.video import probe
from multiexpr.build import build
from multiexpr.cli import cli
from multiexpr.config import BuildConfig, EngineConfig
from multiexpr.output import ConfigMismatchError
from multiexpr.sample import EXPECTED


def output_digest(out: Path) -> dict[str, str]:
    """sha256 of every data file a build publishes (timings live only in stats.json, which is excluded)."""
    files = [*sorted((out / "data").glob("*.parquet")), *sorted((out / "clips").glob("*")),
             out / "rejects.parquet", out / "README.md", out / "run_config.json"]
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_sample_build_accepts_and_rejects_the_right_clips(reference_build: Path) -> None:
    rejects = pd.read_parquet(reference_build / "rejects.parquet")
    got = dict(zip(rejects.source, rejects.reason))
    assert got == {"corrupt.mp4": "unreadable", "duo_static_copy.mp4": "not_expressive",
                   "single_face.mp4": "too_few_faces", "no_face.mp4": "too_few_faces",
                   "duo_late_entry.mp4": "too_short"}  # the late entry's one-face opening shot
    assert {k for k, v in EXPECTED.items() if v != "accepted"} <= set(got)
    clips = pd.read_parquet(reference_build / "data")
    assert sorted(clips.source) == ["duo_late_entry.mp4", "duo_side_by_side.mp4"]
    late = clips[clips.source == "duo_late_entry.mp4"].iloc[0]
    assert (late.source_start_frame, late.source_end_frame, late.num_frames) == (50, 150, 100)
    for row in clips.itertuples():
        info = probe(reference_build / row.video)
        assert (info.n_frames, round(info.fps), info.width, info.height) == (row.num_frames, 25, row.width, row.height)
        assert row.num_faces == 2 and len(row.faces) == 2
        for face in row.faces:
            assert len(face["boxes"]) == row.num_frames and all(face["present"])
            assert face["face_px"] >= 96 and face["expressiveness"] >= 1 and len(face["blendshape_mean"]) == 52
        assert row.scores["max_iou"] < 0.12
    stats = json.loads((reference_build / "stats.json").read_text())
    assert stats["accepted"] == 2 and stats["sources"] == 6
    assert stats["stages"]["prepass"]["dropped"] == {"too_few_faces": 2}  # dropped before the full analysis
    assert stats["stages"]["faces"]["in"] == 3 and stats["stages"]["face_count"]["dropped"] == {}
    assert stats["stages"]["probe"]["dropped"] == {"unreadable": 1}
    config = json.loads((reference_build / "run_config.json").read_text())
    assert config["config_hash"] == BuildConfig().hash() and config["config"]["min_face_px"] == 96


def test_output_loads_with_datasets(reference_build: Path, tmp_path: Path) -> None:
    import datasets

    ds = datasets.load_dataset("parquet", data_dir=str(reference_build), split="train", cache_dir=str(tmp_path))
    assert ds.num_rows == 2 and "reason" not in ds.column_names  # only the train shards, not rejects.parquet
    assert len(ds[0]["faces"][0]["boxes"]) == ds[0]["num_frames"]
    card = datasets.load_dataset(str(reference_build), split="train", cache_dir=str(tmp_path / "card"))
    assert sorted(card["clip_id"]) == sorted(ds["clip_id"])
    rejects = datasets.load_dataset(str(reference_build), "rejects", split="train", cache_dir=str(tmp_path / "r"))
    assert rejects.num_rows == 5


def test_changed_config_is_refused_unless_forced(sample_sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    sources = tmp_path / "one"
    sources.mkdir()
    (sources / "corrupt.mp4").write_bytes((sample_sources / "corrupt.mp4").read_bytes())
    build(sources, out)
    with pytest.raises(ConfigMismatchError, match="min_face_px"):
        build(sources, out, BuildConfig(min_face_px=128))
    result = CliRunner().invoke(cli, ["build", str(sources), "--out", str(out), "--param", "min_face_px=128"])
    assert result.exit_code != 0 and "--force" in result.output
    result = CliRunner().invoke(cli, ["build", str(sources), "--out", str(out), "--param", "min_face_px=128", "--force"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run_config.json").read_text())["config"]["min_face_px"] == 128


def _run_until(cmd: list[str], out: Path, markers: int | None = None, config_age: float | None = None) -> None:
    """Start the build and SIGKILL it once ``markers`` sources are committed, or ``config_age`` seconds after
    it wrote run_config.json (i.e. in the middle of its first source)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    seen = None
    try:
        while proc.poll() is None:
            done = len(list((out / ".work" / "done").glob("*.json"))) if (out / ".work" / "done").exists() else 0
            if seen is None and (out / "run_config.json").exists():
                seen = time.monotonic()
            if (markers is not None and done >= markers) or (
                    config_age is not None and seen is not None and time.monotonic() - seen > config_age):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        proc.wait()


def test_resume_after_sigkill_gives_identical_output(sample_sources: Path, reference_build: Path,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "multiexpr.cli", "-q", "build", str(sample_sources), "--out", str(out)]
    _run_until(cmd, out, config_age=2.0)  # in the middle of the first source
    assert not (out / ".work" / "done").exists() or len(list((out / ".work" / "done").glob("*.json"))) < 6
    _run_until(cmd, out, markers=2)  # between sources
    _run_until(cmd, out, markers=5)  # with one source left
    assert 5 <= len(list((out / ".work" / "done").glob("*.json"))) <= 6
    subprocess.run(cmd, check=True, capture_output=True)
    assert output_digest(out) == output_digest(reference_build)
    assert not [p for p in out.rglob(".*") if is_temp_name(p.name)]  # killed writers' temp files are cleaned
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accepted"] == 2 and stats["sources"] == 6


def test_ray_engine_matches_local(sample_sources: Path, reference_build: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray"
    result = build(sample_sources, out, engine=EngineConfig(engine="ray", workers=2))
    assert result.processed == 6
    assert output_digest(out) == output_digest(reference_build)


class WordCaptioner:
    """A real (if simple) captioner plug-in: describes the clip from its annotations."""

    name = "annotation-words-v1"
    prompt = "Describe the people and their expressions."

    def caption(self, frames: np.ndarray, clip: dict) -> str:
        return f"{clip['num_faces']} people over {len(frames)} frames"


def test_captioner_plugin_is_run_and_recorded(sample_sources: Path, tmp_path: Path) -> None:
    sources = tmp_path / "duo"
    sources.mkdir()
    (sources / "duo.mp4").write_bytes((sample_sources / "duo_side_by_side.mp4").read_bytes())
    out = tmp_path / "out"
    build(sources, out, BuildConfig(captioner=f"{__name__}:WordCaptioner"))
    row = pd.read_parquet(out / "data").iloc[0]
    assert (row.caption, row.captioner) == ("2 people over 125 frames", "annotation-words-v1")
    assert json.loads((out / "run_config.json").read_text())["config"]["caption_prompt"] == WordCaptioner.prompt
