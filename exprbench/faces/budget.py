"""The per-frame pixel budget of face analysis: frames above it are downscaled, far above it refused.

Why: MediaPipe resizes every input to its own model size (192 px detector, 256 px landmark crops), so
analysing an 8K frame at full resolution buys no accuracy, while each decoded 8K frame is 113 MB and
every copy on the way (decoder, RGB conversion, MediaPipe image) multiplies that. Frames up to
``MAX_ANALYSIS_PIXELS`` (UHD 3840x2160, 8.3 MP) are analysed as they are, so every benchmark at or
below 4K gets exactly the results it always had. Larger frames are resized (area averaging, aspect
kept) by the factor that brings them to the budget; the results are mapped back to the original
pixel grid (boxes, ``width``/``height``; landmarks are normalised and need nothing), and the factor is
recorded as ``params["analysis_scale"]`` in the result (and so in its cache key). Frames above
``MAX_FRAME_PIXELS`` (about 134 MP, e.g. 16384x8192) are refused with an error naming the file:
decoding one such frame already costs 400 MB, and no portrait-animation output is that large.
Both limits are protocol choices (``PROTOCOL.faces``, rendered in docs/protocol.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from exprbench.errors import InputError
from exprbench.protocol import PROTOCOL

MAX_ANALYSIS_PIXELS = PROTOCOL.faces.max_analysis_pixels
MAX_FRAME_PIXELS = PROTOCOL.faces.max_frame_pixels


def analysis_scale(width: int, height: int, source: object = None) -> float:
    """1.0 within the budget, else the downscale factor (< 1); refuses frames above ``MAX_FRAME_PIXELS``."""
    pixels = width * height
    if pixels > MAX_FRAME_PIXELS:
        raise InputError(source if source else None,
                         f"frames of {width}x{height} ({pixels / 1e6:.0f} MP) exceed the face-analysis limit of "
                         f"{MAX_FRAME_PIXELS / 1e6:.0f} MP", "downscale the video, e.g. ffmpeg -vf scale=3840:-2")
    if pixels <= MAX_ANALYSIS_PIXELS:
        return 1.0
    return math.sqrt(MAX_ANALYSIS_PIXELS / pixels)


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """(width, height) analysed at ``scale`` (at least 1 px each)."""
    if scale >= 1.0:
        return width, height
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def downscale_chunks(chunks: Iterable[np.ndarray], size: tuple[int, int]) -> Iterator[np.ndarray]:
    """Resize (n, H, W, 3) uint8 chunks to ``size`` = (width, height), one chunk at a time."""
    import cv2

    for chunk in chunks:
        if chunk.shape[2] == size[0] and chunk.shape[1] == size[1]:
            yield chunk
            continue
        yield np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in chunk])


def restore_scale(tracks, width: int, height: int, scale: float):  # noqa: ANN001, ANN201 - FaceTracks
    """Express tracks analysed on downscaled frames in the original ``width`` x ``height`` pixels."""
    if scale >= 1.0:
        return tracks
    sx, sy = width / tracks.width, height / tracks.height
    factor = np.array([sx, sy, sx, sy], np.float32)
    skipped = [replace(s, box=tuple(round(float(v) * f, 1) for v, f in zip(s.box, factor))) for s in tracks.skipped]
    return replace(tracks, width=width, height=height, boxes=tracks.boxes * factor, skipped=skipped)
