"""Region mode on real media: small faces in videos, explicit track order, NaN regions, agreement
with full-frame analysis on a large face, cache, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from exprbench.assets import asset_path
from exprbench.faces import (
    analyze_frames,
    analyze_regions,
    analyze_video_regions,
    cosine_similarity,
)
from exprbench.faces import cache as face_cache
from exprbench.faces.geometry import box_iou
from exprbench.faces.regions import OUTSIDE_REGION
from exprbench.video import read_video, write_video

DRIFT_PX = 12  # per frame: 132 px over 12 frames, more than half a crop, so a fixed crop loses the faces


@pytest.fixture(scope="module")
def drifting_group(group_image):
    """The five-person photo as a 12-frame clip panning right by DRIFT_PX per frame."""
    shifts = DRIFT_PX * np.arange(12)
    return np.stack([np.roll(group_image, s, axis=1) for s in shifts]), shifts


def test_all_five_people_of_the_group_photo_are_found_in_a_video(group, drifting_group):
    frames, shifts = drifting_group
    full = analyze_frames(frames, fps=12, identity_every=0)
    assert full.n_tracks < 5 or full.coverage().min() < 0.9  # what region mode is for
    regions = analyze_regions(frames, 12, group.boxes[0])
    assert regions.n_tracks == 5 and regions.track_ids == list(range(5))
    assert np.all(regions.coverage() == 1)
    for f, shift in enumerate(shifts):
        expected = group.boxes[0] + np.array([shift, 0, shift, 0], np.float32)
        iou = np.diag(box_iou(regions.boxes[f], expected))
        assert iou.min() > 0.6, (f, iou)
    # identity on every 5th present frame, and it is the same person as in the still-image analysis
    assert np.array_equal(np.flatnonzero(~np.isnan(regions.identity[:, 0, 0])), [0, 5, 10])
    for j in range(5):
        assert cosine_similarity(regions.identity[0, j], group.identity[0, j]) > 0.97
    # landmarks are in full-frame normalised units, like every other FaceTracks
    xy = regions.landmarks[0, :, :, :2] * [regions.width, regions.height]
    assert np.allclose(xy.min(axis=1), regions.boxes[0, :, :2], atol=0.5)


def test_track_j_is_box_j_whatever_the_order(group, drifting_group):
    frames, _ = drifting_group
    order = np.array([3, 0, 4, 1, 2])
    shuffled = analyze_regions(frames[:3], 12, group.boxes[0][order], identity_every=0)
    assert np.all(np.diag(box_iou(shuffled.boxes[0], group.boxes[0][order])) > 0.6)


def test_without_follow_a_panning_face_leaves_its_crop(group, drifting_group):
    frames, shifts = drifting_group
    fixed = analyze_regions(frames, 12, group.boxes[0], identity_every=0, follow=False)
    lost = ~fixed.present()
    assert not lost[0].any() and fixed.coverage().min() < 1 and fixed.coverage().mean() < 0.9
    assert np.isnan(fixed.landmarks[lost]).all() and np.isnan(fixed.pose[lost]).all()
    # by the last frame no fixed region holds its own face any more: it is empty (NaN) or, since the
    # people stand 100-150 px apart, the left neighbour has panned into it
    own = group.boxes[0] + np.array([shifts[-1], 0, shifts[-1], 0], np.float32)
    assert np.diag(box_iou(fixed.boxes[-1], own)).max() < 0.3
    # a face off the region centre (a neighbour half in the crop) is not taken: rejected and reported
    assert fixed.skipped and all(s.reason == OUTSIDE_REGION for s in fixed.skipped)


def _patches(name: str, frames: list[int], box: np.ndarray, side: int) -> np.ndarray:
    """side x side patches of a real clip around its face box (1.6 x the face size)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = 0.8 * max(box[2] - box[0], box[3] - box[1])
    images = read_video(asset_path(name), frames)
    h, w = images.shape[1:3]
    x0, y0, x1, y1 = int(max(cx - half, 0)), int(max(cy - half, 0)), int(min(cx + half, w)), int(min(cy + half, h))
    return np.stack([np.asarray(Image.fromarray(im[y0:y1, x0:x1]).resize((side, side), Image.BILINEAR))
                     for im in images])


@pytest.fixture(scope="module")
def side_by_side(pexels, man_clip):
    """The woman and the man side by side in a 640x360 frame, faces about 55 px, slowly moving."""
    t, side = 16, 92
    woman = _patches("sample_pexels", list(range(200, 200 + t)), np.nanmedian(pexels.boxes[:, 0], axis=0), side)
    man = _patches("sample_single_face_video", list(range(t)), np.nanmedian(man_clip.boxes[:, 0], axis=0), side)
    canvas = np.full((t, 360, 640, 3), 100, np.uint8)
    for k in range(t):
        canvas[k, 140:140 + side, 120 + 2 * k:120 + 2 * k + side] = woman[k]
        canvas[k, 150:150 + side, 420 - 2 * k:420 - 2 * k + side] = man[k]
    # the expected faces: the frame-0 face boxes (the woman's and the man's), as a caller would give them
    quarter = side / 4
    boxes = np.array([[120 + quarter, 140 + quarter, 120 + 3 * quarter, 140 + 3 * quarter],
                      [420 + quarter, 150 + quarter, 420 + 3 * quarter, 150 + 3 * quarter],
                      [270, 20, 330, 80]])  # an empty patch of background
    return canvas, boxes


def test_small_faces_side_by_side_are_found_where_full_frame_misses(side_by_side, pexels, man_clip):
    canvas, boxes = side_by_side
    full = analyze_frames(canvas, fps=24, identity_every=0)
    assert full.n_tracks < 2 or full.coverage().min() < 0.5
    tracks = analyze_regions(canvas, 24, boxes, identity_every=5)
    assert tracks.n_tracks == 3
    assert np.all(tracks.coverage()[:2] > 0.9)
    size = np.nanmedian(np.maximum(tracks.boxes[..., 2] - tracks.boxes[..., 0], tracks.boxes[..., 3] - tracks.boxes[..., 1]), axis=0)
    assert np.all((40 < size[:2]) & (size[:2] < 80)), size
    # the crops followed the faces: the woman moved right, the man left
    centres = (tracks.boxes[..., 0] + tracks.boxes[..., 2]) / 2
    assert np.nanmean(centres[-3:, 0]) - np.nanmean(centres[:3, 0]) > 15
    assert np.nanmean(centres[-3:, 1]) - np.nanmean(centres[:3, 1]) < -15
    # each track is its own person (dlib on the full frame inside the mapped box)
    woman, man = tracks.mean_identity(0), tracks.mean_identity(1)
    assert cosine_similarity(woman, pexels.mean_identity(0)) > cosine_similarity(woman, man_clip.mean_identity(0))
    assert cosine_similarity(man, man_clip.mean_identity(0)) > cosine_similarity(man, pexels.mean_identity(0))
    # the empty region: NaN everywhere and coverage 0, never zeros
    assert tracks.coverage()[2] == 0
    for name in ("boxes", "landmarks", "blendshapes", "pose", "gaze", "identity"):
        assert np.isnan(getattr(tracks, name)[:, 2]).all(), name


def test_region_mode_is_deterministic(side_by_side):
    canvas, boxes = side_by_side
    a = analyze_regions(canvas[:6], 24, boxes[:2], identity_every=0)
    b = analyze_regions(canvas[:6], 24, boxes[:2], identity_every=0)
    for name in ("boxes", "landmarks", "blendshapes", "pose", "gaze"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


def test_large_face_agrees_with_full_frame_analysis(pexels):
    """The Pexels clip at 4 fps: region mode and full-frame mode measure the same face.

    Measured (79 frames, face ~260 px, centre ~130 px right of the frame centre): landmark distance
    median 0.005, max 0.012 (normalised, ~0.9% of the face size); blendshapes mean |diff| 0.03; yaw
    +4.8 deg on average (the crop's virtual camera looks straight at the face, the full frame's
    does not), pitch and roll within about 1 deg median.
    """
    tracks = analyze_video_regions(asset_path("sample_pexels"), pexels.first_boxes(), fps=4, identity_every=0,
                                   cache=False)
    assert np.array_equal(tracks.frame_indices, pexels.frame_indices)
    both = pexels.present()[:, 0] & tracks.present()[:, 0]
    assert both.mean() > 0.97
    distance = np.linalg.norm(tracks.landmarks[both, 0, :, :2] - pexels.landmarks[both, 0, :, :2], axis=-1).mean(-1)
    assert np.median(distance) < 0.01 and distance.max() < 0.025
    assert np.abs(tracks.blendshapes[both, 0] - pexels.blendshapes[both, 0]).mean() < 0.06
    difference = tracks.pose[both, 0] - pexels.pose[both, 0]
    assert 2 < np.median(difference[:, 0]) < 8  # the documented perspective offset in yaw
    assert np.all(np.median(np.abs(difference[:, 1:]), axis=0) < 3)
    for axis in range(3):  # the motion over time is the same
        assert np.corrcoef(tracks.pose[both, 0, axis], pexels.pose[both, 0, axis])[0, 1] > 0.9, axis


def test_video_regions_are_cached_with_the_boxes_in_the_key(tmp_path, monkeypatch, group, drifting_group):
    monkeypatch.setattr(face_cache, "cache_dir", lambda: tmp_path / "cache")
    frames, _ = drifting_group
    path = write_video(tmp_path / "group.mp4", frames[:4], fps=12)
    first = analyze_video_regions(path, group.boxes[0], identity_every=0)
    assert first.n_tracks == 5 and np.all(first.coverage() == 1) and first.source == str(path)
    monkeypatch.setattr("exprbench.faces.regions._run_regions", lambda *a, **k: pytest.fail("cache was not used"))
    second = analyze_video_regions(path, group.boxes[0], identity_every=0)
    assert np.array_equal(first.landmarks, second.landmarks, equal_nan=True) and second.params == first.params
    with pytest.raises(pytest.fail.Exception, match="cache was not used"):  # other boxes are another key
        analyze_video_regions(path, group.boxes[0][:2], identity_every=0)


def test_invalid_boxes_and_no_boxes():
    frames = np.zeros((2, 64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="boxes"):
        analyze_regions(frames, 10, np.array([[10, 10, 5, 20]]))
    with pytest.raises(ValueError, match="boxes"):
        analyze_regions(frames, 10, np.zeros((3,)))
    empty = analyze_regions(frames, 10, np.zeros((0, 4)))
    assert empty.n_frames == 2 and empty.n_tracks == 0 and empty.coverage().shape == (0,)
