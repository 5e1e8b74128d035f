"""Video analysis on real clips: tracks, coverage, NaN semantics, blendshapes, pose, gaze, cache, table."""

from __future__ import annotations

import numpy as np
import pytest

from exprbench.assets import asset_path
from exprbench.faces import BLENDSHAPE_NAMES, FaceTracks, analyze_frames, analyze_video
from exprbench.faces import cache as face_cache
from exprbench.video import frame_timestamps, probe, resample_indices


def _blend(tracks: FaceTracks, name: str) -> np.ndarray:
    return tracks.blendshapes[:, 0, BLENDSHAPE_NAMES.index(name)]


def test_pexels_is_one_track_seen_in_nearly_every_frame(pexels):
    path = asset_path("sample_pexels")
    assert pexels.n_tracks == 1 and pexels.track_ids == [0]
    assert pexels.coverage()[0] >= 0.97
    assert (pexels.width, pexels.height, pexels.fps) == (640, 360, 4)
    expected = resample_indices(frame_timestamps(path), 4)
    assert pexels.n_frames == len(expected) and np.array_equal(pexels.frame_indices, expected)
    assert pexels.boxes.shape == (pexels.n_frames, 1, 4) and pexels.landmarks.shape == (pexels.n_frames, 1, 478, 3)
    box = np.nanmedian(pexels.boxes[:, 0], axis=0)
    assert 150 < box[2] - box[0] < 320 and 0 <= box[0] < box[2] <= 640  # a head in a 640x360 frame


def test_pexels_blendshapes_move_over_the_clip(pexels):
    # she closes her eyes, laughs and smiles: these blendshapes span most of their range
    for name, spread in (("eyeBlinkLeft", 0.5), ("eyeBlinkRight", 0.5), ("mouthSmileLeft", 0.6),
                         ("jawOpen", 0.05), ("mouthUpperUpLeft", 0.3)):
        values = _blend(pexels, name)
        assert np.nanmax(values) - np.nanmin(values) > spread, name
    assert np.all((pexels.blendshapes[pexels.present()] >= 0) & (pexels.blendshapes[pexels.present()] <= 1))


def test_gaze_agrees_with_mediapipe_eye_look_blendshapes(pexels):
    """The geometric gaze and MediaPipe's eyeLook* blendshapes are independent estimates; signs and
    axes of the head frame are right if they correlate (x+: subject's left, y+: up)."""
    horizontal = (_blend(pexels, "eyeLookOutLeft") + _blend(pexels, "eyeLookInRight")
                  - _blend(pexels, "eyeLookInLeft") - _blend(pexels, "eyeLookOutRight"))
    vertical = (_blend(pexels, "eyeLookUpLeft") + _blend(pexels, "eyeLookUpRight")
                - _blend(pexels, "eyeLookDownLeft") - _blend(pexels, "eyeLookDownRight"))
    gaze = pexels.gaze[:, 0, 2]
    ok = ~np.isnan(gaze[:, 0])
    assert ok.sum() > 30
    assert np.corrcoef(gaze[ok, 0], horizontal[ok])[0, 1] > 0.8
    assert np.corrcoef(gaze[ok, 1], vertical[ok])[0, 1] > 0.6
    assert np.allclose(np.linalg.norm(gaze[ok], axis=1), 1, atol=1e-4)
    # a closed eye has no gaze: NaN exactly where its blink score is high
    closed = _blend(pexels, "eyeBlinkRight") > 0.6
    assert closed.any() and np.isnan(pexels.gaze[closed, 0, 1]).all()


def test_face_then_no_face_has_partial_coverage_and_nan_exactly_where_absent(face_noface):
    tracks = face_noface
    assert tracks.n_frames == probe(asset_path("sample_face_noface")).n_frames
    assert tracks.n_tracks == 1
    present = tracks.present()[:, 0]
    assert 0 < tracks.coverage()[0] < 1
    first_absent = int(np.argmin(present))
    assert present[:first_absent].all() and first_absent > 30  # the face is there first, then leaves
    for name in ("boxes", "landmarks", "blendshapes", "pose"):
        values = getattr(tracks, name)[:, 0].reshape(tracks.n_frames, -1)
        assert np.isnan(values[~present]).all(), name
        assert not np.isnan(values[present]).any(), name
    assert np.isnan(tracks.gaze[~present]).all() and np.isnan(tracks.identity).all()  # identity disabled
    # a one-frame false detection on the title card later is not a track, but it is reported
    assert all("min_track_frames" in s.reason for s in tracks.skipped)


def test_no_face_video_is_an_empty_result_not_an_error(caplog):
    tracks = analyze_video(asset_path("sample_no_face"), identity_every=0, cache=False)
    assert tracks.n_frames == probe(asset_path("sample_no_face")).n_frames
    assert tracks.n_tracks == 0 and tracks.track_ids == []
    assert tracks.boxes.shape == (tracks.n_frames, 0, 4) and tracks.identity.shape == (tracks.n_frames, 0, 128)
    assert tracks.coverage().shape == (0,) and tracks.frame_coverage() == 0.0
    assert len(tracks.to_frame()) == 0
    assert "no face found" in caplog.text


def test_cache_makes_the_second_call_nearly_free(tmp_path, monkeypatch):
    monkeypatch.setattr(face_cache, "cache_dir", lambda: tmp_path)
    path = asset_path("sample_pexels")
    first = analyze_video(path, fps=4, max_frames=12, identity_every=0)
    entries = list(tmp_path.iterdir())
    assert [e.suffix for e in entries] == [".npz"]  # one entry, no temporary file left behind
    monkeypatch.setattr("exprbench.faces.analyze._run_video", lambda *a, **k: pytest.fail("cache was not used"))
    second = analyze_video(path, fps=4, max_frames=12, identity_every=0)
    assert np.array_equal(first.landmarks, second.landmarks, equal_nan=True)
    assert np.array_equal(first.frame_indices, second.frame_indices) and second.params == first.params
    # other parameters are another key
    key_a = face_cache.cache_key(path, "faces-1", {"fps": 4}, identity=False)
    key_b = face_cache.cache_key(path, "faces-1", {"fps": 5}, identity=False)
    assert key_a != key_b
    assert face_cache.cache_key(path, "faces-2", {"fps": 4}, identity=False) != key_a


def test_table_and_parquet_round_trip(tmp_path, face_noface):
    frame = face_noface.to_frame()
    assert len(frame) == face_noface.n_frames * face_noface.n_tracks
    assert {"frame", "time", "track_id", "present", "x0", "yaw", "gaze_combined_x", "bs_jawOpen",
            "landmarks", "identity"} <= set(frame.columns)
    assert frame["present"].sum() == face_noface.present().sum()
    assert frame.loc[~frame["present"], "yaw"].isna().all()
    back = FaceTracks.from_parquet(face_noface.to_parquet(tmp_path / "t.parquet"))
    for name in ("boxes", "landmarks", "blendshapes", "pose", "gaze", "identity", "timestamps"):
        assert np.array_equal(getattr(back, name), getattr(face_noface, name), equal_nan=True), name
    assert back.track_ids == face_noface.track_ids and back.skipped == face_noface.skipped


def test_empty_in_memory_clip():
    tracks = analyze_frames(np.zeros((0, 64, 64, 3), np.uint8), fps=25)
    assert tracks.n_frames == 0 and tracks.n_tracks == 0 and tracks.coverage().shape == (0,)


def test_resampling_above_the_source_rate_repeats_frames_without_rerunning():
    """30 fps resampled to 60 fps: every source frame is shown twice and measured identically."""
    tracks = analyze_video(asset_path("sample_single_face_video"), fps=60, max_frames=20, identity_every=0,
                           cache=False)
    assert tracks.n_frames == 20 and np.array_equal(tracks.frame_indices, np.repeat(np.arange(10), 2))
    assert np.allclose(tracks.timestamps, np.arange(20) / 60)
    assert tracks.n_tracks == 1 and tracks.coverage()[0] == 1
    assert np.array_equal(tracks.landmarks[0::2], tracks.landmarks[1::2])
    assert not np.array_equal(tracks.landmarks[0], tracks.landmarks[2])
