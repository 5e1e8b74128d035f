"""Multi-character masked expression attention (spec §6)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fantasy_model.masking import (
    build_expression_inputs,
    enlarge_box,
    motion_margins,
    pool_to_latent_grid,
)
from fantasy_model.windowing import split_into_windows

WIDTH, HEIGHT, FRAMES = 96, 48, 9  # latent grid 6 x 3 cells, 3 latent frames
BOXES3 = [(0, 0, 32, 32), (32, 0, 64, 32), (64, 0, 96, 32)]  # bottom row (y >= 32) is background
STILL = [[(10, 10, 20, 20)]] * 3


def test_motion_margins_follow_compute_max_xy_and_cap():
    track = [(100, 100, 200, 200), (90, 100, 210, 230), (100, 50, 200, 200)]
    left, right, up, down = motion_margins(track)
    assert (left, right, up, down) == (0.1, 0.1, 0.25, 0.25)  # up would be 0.5, down 0.3: capped
    assert enlarge_box((10, 10, 50, 30), (0.1, 0.1, 0.25, 0.25), 60, 40) == (6, 5, 54, 35)
    assert enlarge_box((0, 0, 50, 30), (0.25, 0.25, 0.25, 0.25), 55, 40) == (0, 0, 55, 37)


def test_static_pooling_equals_the_release_resize_mask():
    torch.manual_seed(0)
    frame = (torch.rand(48, 64) > 0.97).float() * 3
    mask = frame.expand(9, -1, -1)
    first = F.max_pool2d(mask[0][None, None], 16, 16)[0]
    rest = F.max_pool3d(mask[1:][None, None], (4, 16, 16), (4, 16, 16))[0, 0]
    torch.testing.assert_close(pool_to_latent_grid(frame, 3), torch.cat([first, rest]))


def _processor_output(adapter, person_features, boxes, **kwargs):
    """Expression branch of block 0 for fixed video queries, given each person's features."""
    transformer, encoder, config = adapter
    attn = transformer.blocks[0].attn2
    windows = [split_into_windows(encoder(f[None]), FRAMES, config.tokens_per_frame) for f in person_features]
    inputs, _ = build_expression_inputs(windows, boxes, STILL[: len(boxes)], WIDTH, HEIGHT, **kwargs)
    torch.manual_seed(123)
    per_frame = (WIDTH // 16) * (HEIGHT // 16)
    query = torch.randn(1, 3 * per_frame, attn.heads, 16)
    with torch.no_grad():
        out = attn.processor.expression_branch(attn, query, inputs)
    return out.view(3, HEIGHT // 16, WIDTH // 16, -1)  # [T, rows, cols, C]


def _changed_cells(a, b):
    return (a - b).abs().amax(dim=(0, 3)) > 1e-6  # [rows, cols]


def _region(cols):
    cells = torch.zeros(3, 6, dtype=torch.bool)
    cells[:2, cols] = True
    return cells


@pytest.fixture(scope="module")
def features3():
    generator = torch.Generator().manual_seed(5)
    return [torch.randn(FRAMES, 554, generator=generator) for _ in range(3)]


def test_three_people_person_two_changes_only_face_two(tiny_adapter, features3):
    base = _processor_output(tiny_adapter, features3, BOXES3, background="none")
    changed = list(features3)
    changed[1] = changed[1] + 0.5
    other = _processor_output(tiny_adapter, changed, BOXES3, background="none")
    assert torch.equal(_changed_cells(base, other), _region([2, 3]))


def test_background_all_sees_everyone_but_faces_stay_separate(tiny_adapter, features3):
    base = _processor_output(tiny_adapter, features3, BOXES3, background="all")
    changed = list(features3)
    changed[1] = changed[1] + 0.5
    other = _processor_output(tiny_adapter, changed, BOXES3, background="all")
    expected = _region([2, 3])
    expected[2, :] = True  # background row attends to every person
    assert torch.equal(_changed_cells(base, other), expected)


def test_background_none_silences_background_rows(tiny_adapter, features3):
    out = _processor_output(tiny_adapter, features3, BOXES3, background="none")
    assert out[:, 2].abs().max() == 0 and out[:, :2].abs().max() > 0


def test_official_compat_matches_the_release_for_two_people(tiny_adapter, features3):
    boxes = [(0, 0, 48, 32), (48, 0, 96, 32)]
    compat = _processor_output(tiny_adapter, features3[:2], boxes, mode="official_compat")
    correct = _processor_output(tiny_adapter, features3[:2], boxes, mode="per_person", background="all")
    torch.testing.assert_close(compat, correct)
    # the release pairs videos with faces left to right, whatever order the boxes are listed in
    swapped = _processor_output(tiny_adapter, features3[:2], boxes[::-1], mode="official_compat")
    torch.testing.assert_close(swapped, compat)


def test_official_compat_leaks_between_faces_for_three_people(tiny_adapter, features3):
    changed = list(features3)
    changed[1] = changed[1] + 0.5
    base = _processor_output(tiny_adapter, features3, BOXES3, mode="official_compat")
    other = _processor_output(tiny_adapter, changed, BOXES3, mode="official_compat")
    cells = _changed_cells(base, other)
    assert cells[:2, 0:2].all()  # face 1 is affected by person 2's features: the released mask is wrong for N=3


def test_official_compat_mask_is_the_inverted_label_mask():
    windows = [torch.zeros(1, 3, 97, 4), torch.ones(1, 3, 97, 4)]
    inputs, regions = build_expression_inputs(
        windows, [(0, 0, 48, 32), (48, 0, 96, 32)], STILL[:2], WIDTH, HEIGHT, mode="official_compat"
    )
    assert regions == [(0, 0, 48, 32), (48, 0, 96, 32)]
    assert inputs.attend.shape == (3, 18, 194)
    # reversed order: the first chunk holds person 2's tokens
    assert (inputs.tokens[0, :, :97] == 1).all() and (inputs.tokens[0, :, 97:] == 0).all()
    left_face, right_face, background = 0, 5, 12
    assert inputs.attend[0, left_face].tolist() == [False] * 97 + [True] * 97
    assert inputs.attend[0, right_face].tolist() == [True] * 97 + [False] * 97
    assert inputs.attend[0, background].all()


def test_single_person_needs_no_mask_and_bad_modes_fail():
    windows = [torch.zeros(1, 3, 97, 4)]
    inputs, _ = build_expression_inputs(windows, [(0, 0, 48, 32)], STILL[:1], WIDTH, HEIGHT)
    assert inputs.attend is None and inputs.row_gate is None
    with pytest.raises(ValueError):
        build_expression_inputs(windows, [(0, 0, 48, 32)], STILL[:1], WIDTH, HEIGHT, mode="official_compat")
    with pytest.raises(ValueError):
        build_expression_inputs(windows, [(0, 0, 48, 32)], STILL[:1], WIDTH, HEIGHT, mode="other")
