"""The protocol's resize rule against PIL, and the face-region rule and crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from exprbench.assets import asset_path
from exprbench.metrics.frames import (
    crop_regions,
    face_region,
    resize_unit,
    to_unit_tensor,
)
from exprbench.video import load_image


def _pil_float_bicubic(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """clean-fid's 'clean' resize: PIL bicubic per channel on float32, no quantisation."""
    channels = [np.asarray(Image.fromarray((image[..., c] / 255.0).astype(np.float32), mode="F")
                           .resize(size[::-1], Image.BICUBIC)) for c in range(3)]
    return np.clip(np.stack(channels, -1), 0, 1)


@pytest.mark.parametrize("size", [(299, 299), (224, 224), (256, 256), (720, 1000)])
def test_resize_rule_matches_pil_bicubic(pexels_frames: np.ndarray, size: tuple[int, int]) -> None:
    for image in (pexels_frames[7], load_image(asset_path("sample_astronaut"))):
        ours = resize_unit(to_unit_tensor(image[None]), size)[0].permute(1, 2, 0).numpy()
        assert ours.shape == (*size, 3)
        assert np.abs(ours - _pil_float_bicubic(image, size)).max() < 1e-4


def test_resize_is_identity_at_the_same_size(pexels_frames: np.ndarray) -> None:
    x = to_unit_tensor(pexels_frames[:2])
    assert resize_unit(x, (360, 640)) is x


def test_face_region_rule() -> None:
    # inside: 100x80 box centred at (250, 190) -> side 1.5 * 100 = 150
    assert face_region((200, 150, 300, 230), (360, 640)) == (175, 115, 325, 265)
    # near the top-left corner: shifted inside, not padded
    assert face_region((0, 0, 60, 60), (360, 640)) == (0, 0, 90, 90)
    # near the bottom-right corner
    assert face_region((600, 320, 640, 360), (360, 640)) == (580, 300, 640, 360)
    # larger than the image: capped at min(H, W)
    assert face_region((100, 0, 500, 360), (360, 640)) == (120, 0, 480, 360)
    assert face_region((10, 10, 30, 50), (360, 640), margin=0.0) == (0, 10, 40, 50)
    with pytest.raises(ValueError):
        face_region((10, 10, 10, 50), (360, 640))


def test_crop_regions_cuts_and_resizes_each_frame(pexels_frames: np.ndarray) -> None:
    frames = pexels_frames[:3]
    region = face_region((260, 40, 380, 200), frames.shape[1:3])
    one = crop_regions(frames, region)
    assert one.shape == (3, 3, 256, 256) and one.dtype == torch.float32
    x0, y0, x1, y1 = region
    direct = resize_unit(to_unit_tensor(frames[:, y0:y1, x0:x1]), (256, 256))
    assert torch.equal(one, direct)
    moving = [region, region, (0, 0, 100, 100)]
    per_frame = crop_regions(frames, moving, size=(64, 64))
    assert torch.equal(per_frame[2], resize_unit(to_unit_tensor(frames[2:3, :100, :100]), (64, 64))[0])
    assert torch.equal(crop_regions(to_unit_tensor(frames), moving, size=(64, 64)), per_frame)
    with pytest.raises(ValueError, match="regions for"):
        crop_regions(frames, [region], size=(64, 64))
