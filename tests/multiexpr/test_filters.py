"""Each stage and filter on real media (the composed sample), with the reason it gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from exprbench.video import frame_timestamps, read_video
from multiexpr import measures
from multiexpr.config import BuildConfig
from multiexpr.masks import face_mask
from multiexpr.sources import discover
from multiexpr.spans import shots_to_spans, span_indices
from multiexpr.stages import default_stages
from multiexpr.stages.base import Drop
from multiexpr.stages.faces import FaceCountFilter, FaceStage
from multiexpr.stages.probe import ProbeStage
from multiexpr.stages.quality import FaceSizeFilter, OverlapFilter, SharpnessFilter
from multiexpr.stages.shots import LengthFilter, ShotSplitStage
from multiexpr.tasks import Candidate, SourceTask

CFG = BuildConfig()
STAGES = default_stages(CFG, Path("unused"))
NAMES = [stage.name for stage in STAGES]
FACE_FILTERS = STAGES[NAMES.index("faces") + 1:NAMES.index("cut")]  # every filter of an analysed clip, in order


def _analysed(path: Path, transform=None) -> Candidate:  # noqa: ANN001
    """Probe, split and analyse the first shot of ``path``; ``transform`` edits the analysed frames first."""
    [source] = [s for s in discover(path.parent)[1] if s.name == path.name]
    task = SourceTask(source=source)
    assert ProbeStage(CFG).process(task) is None
    clip = ShotSplitStage(CFG).process(task)[-1]
    stage = FaceStage(CFG)
    stage.setup()
    if transform is None:
        assert stage.process(clip) is None
        return clip
    frames = read_video(task.info, clip.out_indices(CFG.analysis_fps).tolist())
    clip.frames = transform(frames)
    clip.tracks = stage._analyze(clip.frames, CFG.analysis_fps, num_faces=CFG.max_faces,
                                 identity_every=CFG.identity_every, min_face_px=CFG.detect_min_face_px)
    clip.faces = [i for i, c in enumerate(clip.tracks.coverage()) if c >= CFG.min_presence]
    clip.face_stats = {i: {"coverage": 1.0} for i in clip.faces}
    return clip


def _run_filters(clip: Candidate) -> Drop | None:
    for stage in FACE_FILTERS:
        drop = stage.process(clip)
        if drop is not None:
            return drop
    return None


@pytest.fixture(scope="module")
def duo(sample_sources: Path) -> Candidate:
    return _analysed(sample_sources / "duo_side_by_side.mp4")


def test_duo_passes_every_filter_and_faces_are_left_to_right(duo: Candidate) -> None:
    assert _run_filters(duo) is None
    assert duo.faces == [0, 1]
    boxes = np.asarray(duo.tracks.boxes)
    assert np.nanmean(boxes[:, 0, 0]) < 640 <= np.nanmean(boxes[:, 1, 0])  # woman left, man right
    assert all(duo.face_stats[i]["expressiveness"] >= 1 for i in duo.faces)


def test_single_face_is_too_few_faces(sample_sources: Path) -> None:
    drop = FaceCountFilter(CFG).process(_analysed(sample_sources / "single_face.mp4"))
    assert drop.code == "too_few_faces" and drop.detail.startswith("1 face(s)")


def test_no_face_is_too_few_faces(sample_sources: Path) -> None:
    drop = FaceCountFilter(CFG).process(_analysed(sample_sources / "no_face.mp4"))
    assert drop.code == "too_few_faces" and drop.detail.startswith("0 face(s)")


def test_static_copy_is_not_expressive(sample_sources: Path) -> None:
    clip = _analysed(sample_sources / "duo_static_copy.mp4")
    drop = _run_filters(clip)
    assert drop.code == "not_expressive" and drop.detail.startswith("face 1")
    assert clip.face_stats[0]["expressiveness"] >= 1  # the woman alone is expressive


def test_blurred_faces_are_rejected(sample_sources: Path, duo: Candidate) -> None:
    clip = _analysed(sample_sources / "duo_side_by_side.mp4",
                     lambda f: np.stack([cv2.GaussianBlur(x, (0, 0), 4) for x in f]))
    assert FaceCountFilter(CFG).process(clip) is None
    assert SharpnessFilter(CFG).process(clip).code == "blurry"
    assert SharpnessFilter(CFG).process(duo) is None
    assert min(duo.face_stats[i]["sharpness"] for i in duo.faces) > 4 * CFG.min_sharpness


def test_small_faces_are_rejected(sample_sources: Path) -> None:
    clip = _analysed(sample_sources / "duo_side_by_side.mp4",
                     lambda f: np.stack([cv2.resize(x, (640, 180), interpolation=cv2.INTER_AREA) for x in f]))
    assert FaceCountFilter(CFG).process(clip) is None
    assert FaceSizeFilter(CFG).process(clip).code == "face_too_small"


def test_overlapping_faces_are_rejected(duo: Candidate) -> None:
    """Edge case without real overlapping footage: the man's real boxes moved onto the woman's."""
    assert OverlapFilter(CFG).process(duo) is None and duo.max_iou == 0.0
    moved = dataclasses.replace(duo.tracks, boxes=np.asarray(duo.tracks.boxes).copy())
    moved.boxes[:, 1] = moved.boxes[:, 0] + np.array([60, 0, 60, 0])
    clip = dataclasses.replace(duo, tracks=moved)
    assert OverlapFilter(CFG).process(clip).message.startswith("faces_overlap: max IoU")


def test_length_filter_and_forced_split(sample_sources: Path) -> None:
    path = sample_sources / "duo_late_entry.mp4"
    [source] = [s for s in discover(sample_sources)[1] if s.name == path.name]
    task = SourceTask(source=source)
    ProbeStage(CFG).process(task)
    clips = ShotSplitStage(CFG).process(task)
    assert [(c.start, c.end) for c in clips] == [(0, 50), (50, 150)]  # cut where the man appears
    assert LengthFilter(CFG).process(clips[0]) == Drop("too_short", "50 frames at 25 fps, need 81")
    assert LengthFilter(CFG).process(clips[1]) is None
    ts = frame_timestamps(path)
    assert shots_to_spans([], ts, max_clip_s=2.5) == [(0, 50), (50, 100), (100, 150)]  # 6 s in 3 equal pieces
    assert len(span_indices(ts, 50, 150, 25.0)) == 100 and len(span_indices(ts, 0, 150, 5.0)) == 30


def test_probe_rejects_corrupt_and_escaping_paths(sample_sources: Path, tmp_path: Path) -> None:
    [corrupt] = [s for s in discover(sample_sources)[1] if s.name == "corrupt.mp4"]
    assert ProbeStage(CFG).process(SourceTask(source=corrupt)).code == "unreadable"
    manifest = tmp_path / "list.csv"
    manifest.write_text(f"video,caption\n{sample_sources / 'single_face.mp4'}, x\n../outside.mp4,y\nmissing.mp4,z\n")
    root, sources = discover(manifest, root=sample_sources)
    by_name = {s.name: s for s in sources}
    assert by_name["../outside.mp4"].problem.startswith("path_escapes_root")
    assert ProbeStage(CFG).process(SourceTask(source=by_name["../outside.mp4"])).code == "path_escapes_root"
    assert ProbeStage(CFG).process(SourceTask(source=by_name["missing.mp4"])) == Drop("unreadable", "file not found")
    assert by_name[str(sample_sources / "single_face.mp4")].problem == ""
    jsonl = tmp_path / "list.jsonl"
    jsonl.write_text('{"path": "a.mp4"}\n{"path": "sub/b.mp4"}\n')
    assert [s.name for s in discover(jsonl)[1]] == ["a.mp4", "sub/b.mp4"]


def test_mask_rule_is_an_ellipse_in_the_grown_box() -> None:
    mask = face_mask(np.array([100, 50, 200, 170]), 360, 640, scale=1.2)
    assert mask.sum() == pytest.approx(np.pi / 4 * 120 * 144, rel=0.01)
    assert mask[110, 150] and not mask[50, 100]
    assert not face_mask(np.full(4, np.nan), 10, 10).any()


def test_measures_never_score_missing_faces_as_zero() -> None:
    assert np.isnan(measures.blendshape_std(np.full((5, 52), np.nan)))
    assert np.isnan(measures.face_size(np.full((5, 4), np.nan)))
    assert np.isnan(measures.landmark_motion(np.full((5, 478, 3), np.nan), 640, 360, 5.0))
