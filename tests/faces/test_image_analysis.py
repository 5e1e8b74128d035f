"""Still images: multi-face order, mirror symmetry of pose and identity, size filter, association."""

from __future__ import annotations

import numpy as np
import pytest

from exprbench.assets import asset_path
from exprbench.faces import (
    BLENDSHAPE_NAMES,
    TOO_SMALL,
    analyze_image,
    associate,
    associate_tracks,
    cosine_similarity,
)
from exprbench.video import read_video


def test_five_people_are_five_tracks_ordered_left_to_right(group):
    assert group.n_frames == 1 and group.n_tracks == 5
    centres = (group.boxes[0, :, 0] + group.boxes[0, :, 2]) / 2
    assert np.all(np.diff(centres) > 50)  # distinct faces, left to right
    assert group.present().all() and not np.isnan(group.identity).any()
    assert group.landmarks.shape == (1, 5, 478, 3) and group.blendshapes.shape == (1, 5, 52)
    # four of them laugh broadly; the curly-haired boy in the middle only smiles a little
    smile = group.blendshapes[0, :, [BLENDSHAPE_NAMES.index("mouthSmileLeft"),
                                     BLENDSHAPE_NAMES.index("mouthSmileRight")]].mean(axis=0)
    assert np.all(np.delete(smile, 2) > 0.8) and smile[2] < np.delete(smile, 2).min() - 0.2


def test_mirrored_image_flips_yaw_and_roll_and_keeps_identity(group, group_image):
    mirrored = analyze_image(np.ascontiguousarray(group_image[:, ::-1]))
    assert mirrored.n_tracks == 5
    back = mirrored.pose[0, ::-1]  # left-to-right order reverses in the mirror
    pose = group.pose[0]
    assert np.all(np.abs(pose[:, 0] + back[:, 0]) < 4), (pose, back)  # yaw changes sign
    assert np.all(np.abs(pose[:, 2] + back[:, 2]) < 4)  # roll changes sign
    assert np.all(np.abs(pose[:, 1] - back[:, 1]) < 4)  # pitch stays
    same = [cosine_similarity(group.identity[0, i], mirrored.identity[0, 4 - i]) for i in range(5)]
    assert min(same) > 0.97


def test_mirrored_turned_head(pexels):
    """A frame where she turns her head clearly: yaw has the opposite sign in the mirror."""
    frame = int(np.nanargmax(np.abs(pexels.pose[:, 0, 0])))
    assert abs(pexels.pose[frame, 0, 0]) > 10
    image = read_video(asset_path("sample_pexels"), [int(pexels.frame_indices[frame])])[0]
    direct, mirrored = analyze_image(image), analyze_image(np.ascontiguousarray(image[:, ::-1]))
    assert direct.n_tracks == mirrored.n_tracks == 1
    yaw, yaw_mirrored = direct.pose[0, 0, 0], mirrored.pose[0, 0, 0]
    assert np.sign(yaw) == np.sign(pexels.pose[frame, 0, 0]) and abs(yaw) > 10
    assert np.sign(yaw_mirrored) == -np.sign(yaw) and abs(yaw + yaw_mirrored) < 5
    assert cosine_similarity(direct.identity[0, 0], mirrored.identity[0, 0]) > 0.97


def test_faces_below_min_face_px_are_skipped_with_the_reason(group_image):
    tracks = analyze_image(group_image, min_face_px=105, identity=False)
    widths = tracks.boxes[0, :, 2] - tracks.boxes[0, :, 0]
    assert 0 < tracks.n_tracks < 5 and np.all(np.maximum(widths, tracks.boxes[0, :, 3] - tracks.boxes[0, :, 1]) >= 105)
    assert len(tracks.skipped) == 5 - tracks.n_tracks
    for skipped in tracks.skipped:
        assert skipped.reason == TOO_SMALL and skipped.frame == 0
        x0, y0, x1, y1 = skipped.box
        assert max(x1 - x0, y1 - y0) < 105


def test_no_face_image_is_empty(caplog):
    tracks = analyze_image(np.full((240, 320, 3), 127, np.uint8))
    assert tracks.n_tracks == 0 and tracks.boxes.shape == (1, 0, 4) and "no face found" in caplog.text


def test_association_recovers_a_shuffled_and_rescaled_face_set(group):
    boxes = group.boxes[0]
    permutation = np.array([3, 0, 4, 1, 2])
    # the same faces in an image at half resolution, listed in another order, plus a face nobody has
    reference = np.concatenate([boxes[permutation] / 2, [[5, 5, 40, 40]]])
    result = associate(reference, group, reference_size=(group.width // 2, group.height // 2))
    assert result.mapping == {0: 3, 1: 0, 2: 4, 3: 1, 4: 2, 5: None}
    assert result.unmatched_reference == [5] and result.unmatched_tracks == []
    assert all(d < 0.01 for d in result.distances.values())
    by_order = associate(reference[:5], group, reference_size=(group.width // 2, group.height // 2), method="order")
    assert by_order.mapping == {r: t for r, t in result.mapping.items() if t is not None}
    assert result.order_consistent and by_order.order_consistent
    # one face above the other: x-order pairs them wrongly, position pairs them right and says so
    above = np.array([[100, 50, 200, 150], [130, 400, 230, 500]], np.float32)  # A left of B
    tracks_at = np.array([[90, 420, 190, 520], [140, 40, 240, 140]], np.float32)  # B's track left of A's
    by_position = associate(above, group, track_boxes=tracks_at)
    assert by_position.mapping == {0: 1, 1: 0} and not by_position.order_consistent
    assert associate(above, group, track_boxes=tracks_at, method="order").mapping == {0: 0, 1: 1}


def test_association_between_two_analyses_reports_missing_faces(group, group_image):
    """The photo cut at x=660 (same pixel grid): the rightmost person is gone and must stay unmatched."""
    partial = analyze_image(np.ascontiguousarray(group_image[:, :660]), identity=False)
    assert partial.n_tracks == 4
    result = associate(partial.first_boxes(), group, reference_size=(group.width, group.height))
    assert result.mapping == {0: 0, 1: 1, 2: 2, 3: 3} and result.unmatched_tracks == [4]
    assert result.order_consistent
    # the same comparison through associate_tracks, which normalises each side by its own frame size,
    # shows why the frame sizes must describe the same view: a crop is not the same view
    assert associate_tracks(group, group).mapping == {i: i for i in range(5)}


def test_invalid_method():
    with pytest.raises(ValueError):
        associate(np.zeros((0, 4)), None, method="nearest")  # type: ignore[arg-type]
