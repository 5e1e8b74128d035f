"""The build's shortcuts must not change what it decides: the single decode gives the reader's exact frames,
the face-count pre-pass filter rejects only what the full face-count filter rejects, and identical files
under two names give one row (plus a ``duplicate`` reject), even when two workers process them at once."""

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
from multiexpr.sources import Source, discover
from multiexpr.stages import default_stages
from multiexpr.stages.base import Drop
from multiexpr.stages.faces import PrepassFilter
from multiexpr.stages.probe import ProbeStage
from multiexpr.stages.shots import LengthFilter, ShotSplitStage
from multiexpr.tasks import Candidate, SourceTask

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


def _prepass(counts: list[int], start: int, end: int, min_fraction: float = 0.5) -> Drop | None:
    """The pre-pass filter on a span of a source whose pre-pass saw ``counts`` faces every 10th frame."""
    task = SourceTask(source=Source("x.mp4", "/x.mp4"), prepass_indices=np.arange(0, 10 * len(counts), 10),
                      prepass_counts=np.asarray(counts))
    config = dataclasses.replace(CFG, prepass_min_fraction=min_fraction)
    return PrepassFilter(config).process(Candidate(source=task, start=start, end=end))


def test_prepass_rule_on_counts() -> None:
    two_then_one = [2, 2, 2, 2, 2, 1, 1, 1, 1, 1]
    assert _prepass(two_then_one, 0, 100) is None  # 2 faces in half the frames
    assert _prepass(two_then_one, 0, 100, min_fraction=0.6).detail.startswith("1 face(s)")
    drop = _prepass(two_then_one, 50, 100)  # only the one-face half
    assert drop.code == "too_few_faces" and drop.detail.startswith("1 face(s) in >= 50% of the 5 frames")
    assert _prepass([3] + [0] * 9, 0, 100).detail.startswith("0 face(s)")
    assert _prepass(two_then_one, 101, 150) is None  # no pre-pass frame: the full analysis decides


def _first_long_shot(path: Path, config: BuildConfig):
    [source] = [s for s in discover(path.parent)[1] if s.name == path.name]
    task = SourceTask(source=source)
    assert ProbeStage(config).process(task) is None
    return next(c for c in ShotSplitStage(config).process(task) if LengthFilter(config).process(c) is None)


@pytest.mark.parametrize("name", ["single_face.mp4", "no_face.mp4", "duo_side_by_side.mp4"])
def test_prepass_agrees_with_the_full_face_count(sample_sources: Path, name: str, tmp_path: Path) -> None:
    """The build's stages from the length filter to the face count, with and without the pre-pass."""
    decisions = {}
    for label, config in (("prepass", CFG), ("full", dataclasses.replace(CFG, prepass_fps=0.0))):
        clip = _first_long_shot(sample_sources / name, config)
        stages = default_stages(config, tmp_path)
        names = [stage.name for stage in stages]
        decisions[label] = "kept"
        for stage in stages[names.index("length") + 1:names.index("face_count") + 1]:
            stage.setup()
            drop = stage.process(clip)
            if drop is not None:
                decisions[label] = f"{stage.name}/{drop.code}"
                break
    if name.startswith("duo"):
        assert decisions == {"prepass": "kept", "full": "kept"}
    else:  # rejected before the full analysis, as the full analysis would have
        assert decisions == {"prepass": "prepass/too_few_faces", "full": "face_count/too_few_faces"}


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
