"""Identity embeddings and tracking: different people, two real faces crossing, synthetic edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from exprbench.assets import asset_path
from exprbench.faces import analyze_frames, cosine_similarity
from exprbench.faces.geometry import pose_from_matrices
from exprbench.faces.tracking import Tracker
from exprbench.video import read_video

PATCH = 150


def _embeddings(tracks, track: int) -> np.ndarray:
    rows = tracks.identity[:, track]
    return rows[~np.isnan(rows[:, 0])]


def test_different_people_are_clearly_less_similar_than_one_person_across_frames(pexels, man_clip):
    woman, man = _embeddings(pexels, 0), _embeddings(man_clip, 0)
    assert len(woman) >= 10 and len(man) >= 5
    same_woman = [cosine_similarity(a, b) for i, a in enumerate(woman) for b in woman[i + 1:]]
    same_man = [cosine_similarity(a, b) for i, a in enumerate(man) for b in man[i + 1:]]
    different = [cosine_similarity(a, b) for a in woman for b in man]
    # the same face across strong expressions and head turns stays above every cross-person pair
    assert np.median(same_woman) > 0.95 and np.median(same_man) > 0.95
    assert max(different) < min(np.percentile(same_woman, 5), np.percentile(same_man, 5))
    assert np.median(same_woman) - np.median(different) > 0.08
    # and dlib's own scale: Euclidean distance below 0.6 for the same person, above it for different ones
    assert np.linalg.norm(pexels.mean_identity(0) - man_clip.mean_identity(0)) > 0.6
    assert np.median(np.linalg.norm(woman - pexels.mean_identity(0), axis=1)) < 0.4


def _face_patches(path_name: str, tracks, frames: list[int]) -> np.ndarray:
    """Square PATCH-px crops around the track's median face box, for the given source frames."""
    box = np.nanmedian(tracks.boxes[:, 0], axis=0)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = 0.8 * max(box[2] - box[0], box[3] - box[1])
    images = read_video(asset_path(path_name), frames)
    h, w = images.shape[1:3]
    x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
    x1, y1 = int(min(cx + half, w)), int(min(cy + half, h))
    return np.stack([np.asarray(Image.fromarray(im[y0:y1, x0:x1]).resize((PATCH, PATCH), Image.BILINEAR))
                     for im in images])


@pytest.fixture(scope="module")
def crossing(pexels, man_clip):
    """Two real faces that move past each other: the woman left to right on top, the man right to
    left lower down and behind her (her patch covers part of his at the crossing)."""
    t = 48
    woman = _face_patches("sample_pexels", pexels, list(range(300, 300 + t)))
    man = _face_patches("sample_single_face_video", man_clip, list(range(t)))
    canvas = np.full((t, 360, 640, 3), 90, np.uint8)
    canvas[:, :, :, 1] = 110
    xs = np.linspace(10, 480, t).astype(int)
    for k in range(t):
        canvas[k, 160:160 + PATCH, xs[::-1][k]:xs[::-1][k] + PATCH] = man[k]
        canvas[k, 40:40 + PATCH, xs[k]:xs[k] + PATCH] = woman[k]
    return analyze_frames(canvas, fps=24, identity_every=4)


def test_each_track_keeps_its_identity_through_the_crossing(crossing, pexels, man_clip):
    assert crossing.n_tracks == 2
    assert np.all(crossing.coverage() > 0.7)
    centres = (crossing.boxes[..., 0] + crossing.boxes[..., 2]) / 2
    present = crossing.present()
    first = [centres[present[:, i], i][0] for i in range(2)]
    last = [centres[present[:, i], i][-1] for i in range(2)]
    assert first[0] < first[1] and last[0] > last[1]  # track 0 started left and ended right: they crossed
    woman_ref, man_ref = pexels.mean_identity(0), man_clip.mean_identity(0)
    for track, (own, other) in enumerate(((woman_ref, man_ref), (man_ref, woman_ref))):
        embeddings = _embeddings(crossing, track)
        frames = np.flatnonzero(~np.isnan(crossing.identity[:, track, 0]))
        assert frames[0] < 10 and frames[-1] > 38  # embeddings on both sides of the crossing
        for e in embeddings:
            assert cosine_similarity(e, own) > cosine_similarity(e, other) + 0.03


def test_tracker_keeps_crossing_boxes_apart_and_survives_a_gap():
    tracker = Tracker(max_gap=5)
    ids = []
    for k in range(40):
        a = np.array([10 + 10 * k, 100, 110 + 10 * k, 200], float)  # moves right
        b = np.array([400 - 10 * k, 130, 500 - 10 * k, 230], float)  # moves left, overlapping a mid-way
        boxes = [a, b] if not 18 <= k <= 21 else [a]  # b is occluded for four frames at the crossing
        ids.append(tracker.update(k, np.array(boxes)))
    assert all(frame[0] == 0 for frame in ids)
    assert all(frame[1] == 1 for frame in ids if len(frame) == 2)
    assert len(tracker.tracks) == 2 and tracker.left_to_right() == [0, 1]


def test_tracker_ends_a_track_after_max_gap():
    tracker = Tracker(max_gap=2)
    box = np.array([[0, 0, 50, 50]], float)
    assert tracker.update(0, box) == [0]
    assert tracker.update(3, box) == [0]  # a 2-frame miss is bridged
    assert tracker.update(7, box) == [1]  # a 3-frame miss is not: a new track


def test_pose_convention_on_known_rotations():
    def rot(yaw=0.0, pitch=0.0, roll=0.0):
        from scipy.spatial.transform import Rotation
        m = np.eye(4)
        m[:3, :3] = Rotation.from_euler("YXZ", [yaw, -pitch, roll], degrees=True).as_matrix()
        return m

    pose = pose_from_matrices(np.stack([rot(yaw=20), rot(pitch=15), rot(roll=-10), rot(30, 10, 5)]))
    assert np.allclose(pose, [[20, 0, 0], [0, 15, 0], [0, 0, -10], [30, 10, 5]], atol=1e-4)
    nose = rot(yaw=20)[:3, :3] @ [0, 0, 1]
    assert nose[0] > 0  # positive yaw: the nose (face +z) points to the image right (+x)
    assert (rot(pitch=15)[:3, :3] @ [0, 0, 1])[1] > 0  # positive pitch: nose up
