"""The build's shortcuts must not change what it decides: the single decode gives the reader's exact frames,
the face-count pre-pass rejects only what the full face-count filter rejects, and identical files under two
names give one row (plus a ``duplicate`` reject), even when two workers process them at once."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exprbench.assets import asset_path
from exprbench.video import probe, read_video
from multiexpr.build import build
from multiexpr.config import BuildConfig, EngineConfig
from multiexpr.decode import scan
from multiexpr.prepass import too_few_faces
from multiexpr.sources import discover
from multiexpr.stages.faces import FaceCountFilter, FaceStage
from multiexpr.stages.probe import ProbeStage
from multiexpr.stages.shots import LengthFilter, ShotSplitStage
from multiexpr.tasks import SourceTask

CFG = BuildConfig()


@pytest.mark.parametrize("name", ["sample_pexels", "sample_face_noface"])  # H.264 CFR; HEVC VFR 960x540
def test_single_decode_gives_the_readers_frames(name: str) -> None:
    info = probe(asset_path(name))
    wanted = [0, 7, 100, info.n_frames - 1]
    seen = list(scan(info, 256, set(wanted)))
    assert [i for i, _, _ in seen] == list(range(info.n_frames))
    small = seen[0][1]
    assert small.shape == (round(info.height * 256 / info.width), 256, 3) and small.dtype == np.uint8
    full = np.stack([f for _, _, f in seen if f is not None])
    np.testing.assert_array_equal(full, read_video(info, wanted))


def test_prepass_rule_on_counts() -> None:
    idx = np.arange(0, 100, 10)
    two_then_one = np.array([2, 2, 2, 2, 2, 1, 1, 1, 1, 1])
    assert too_few_faces(idx, two_then_one, 0, 100, 2, 0.5, 1.0) is None  # 2 faces in half the frames
    assert too_few_faces(idx, two_then_one, 0, 100, 2, 0.6, 1.0).startswith("too_few_faces: 1 face(s)")
    reason = too_few_faces(idx, two_then_one, 50, 100, 2, 0.5, 1.0)  # only the one-face half
    assert reason.startswith("too_few_faces: 1 face(s) in >= 50% of the 5 frames")
    assert too_few_faces(idx, np.array([3] + [0] * 9), 0, 100, 2, 0.5, 1.0).startswith("too_few_faces: 0 face(s)")
    assert too_few_faces(idx, two_then_one, 101, 150, 2, 0.5, 1.0) is None  # no pre-pass frame: analyse it


def _first_long_shot(path: Path, config: BuildConfig):
    [source] = [s for s in discover(path.parent)[1] if s.name == path.name]
    task = SourceTask(source=source)
    assert ProbeStage(config).process(task) is None
    return next(c for c in ShotSplitStage(config).process(task) if LengthFilter(config).process(c) is None)


@pytest.mark.parametrize("name", ["single_face.mp4", "no_face.mp4", "duo_side_by_side.mp4"])
def test_prepass_agrees_with_the_full_face_count(sample_sources: Path, name: str) -> None:
    decisions = {}
    for label, config in (("prepass", CFG), ("full", dataclasses.replace(CFG, prepass_fps=0.0))):
        clip = _first_long_shot(sample_sources / name, config)
        stage = FaceStage(config)
        stage.setup()
        assert stage.process(clip) is None
        drop = FaceCountFilter(config).process(clip)
        decisions[label] = drop.code if drop else "kept"
        if label == "prepass" and drop is not None:
            assert clip.tracks is None  # rejected before the full analysis ran
    assert decisions["prepass"] == decisions["full"] == ("kept" if name.startswith("duo") else "too_few_faces")


def test_identical_files_under_two_names_give_one_row(sample_sources: Path, tmp_path: Path) -> None:
    sources = tmp_path / "in"
    sources.mkdir()
    for name in ("b_copy.mp4", "a_original.mp4"):
        shutil.copyfile(sample_sources / "duo_side_by_side.mp4", sources / name)
    out = tmp_path / "out"
    build(sources, out, engine=EngineConfig("local", workers=2))  # both copies are cut at the same time
    clips = pd.read_parquet(out / "data")
    assert list(clips.source) == ["a_original.mp4"] and clips.clip_id.is_unique
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert list(zip(rejects.source, rejects.stage, rejects.reason)) == [("b_copy.mp4", "dedupe", "duplicate")]
    assert rejects.candidate_id[0] == clips.clip_id[0] and "a_original.mp4" in rejects.detail[0]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["accepted"] == 1 and stats["stages"]["dedupe"]["dropped"] == {"duplicate": 1}
    assert sorted(p.name for p in (out / "clips").iterdir()) == [f"{clips.clip_id[0]}.mp4"]
    info = probe(out / clips.video[0])
    assert (info.n_frames, info.width) == (clips.num_frames[0], 1280)
