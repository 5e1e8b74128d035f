"""One sequential decode of a source for the shot split and the face pre-pass.

Why not ``exprbench.video.iter_frames``: shot detection needs every frame, but only small ones (a cut
changes the whole picture), and the face pre-pass needs a few full-size frames. Converting every frame to
full-size RGB and shrinking it afterwards cost more CPU than decoding it; here libswscale converts each
frame straight to the small BGR picture PySceneDetect wants, and only the requested frames are also
converted at full size. The decoder runs one thread: parallelism comes from the build's workers, and a
decoder that grabs every core per worker would oversubscribe the machine.

Frame ``i`` is the ``i``-th frame PyAV decodes, which is the numbering ``exprbench.video.probe`` counts
(packets before an edit list's start are dropped by PyAV and not counted by probe). Rotated sources are
turned upright like ``iter_frames`` does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import av
import numpy as np

from exprbench.errors import InputError
from exprbench.video import VideoInfo


def small_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """(width, height) of the picture shrunk to at most ``max_width`` wide, aspect kept."""
    if width <= max_width:
        return width, height
    return max_width, max(2, round(height * max_width / width))


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    return image if rotation == 0 else np.ascontiguousarray(np.rot90(image, k=rotation // 90))


def scan(info: VideoInfo, small_width: int, full: Collection[int], count: int | None = None
         ) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
    """Yield ``(index, small_bgr, full_rgb or None)`` for the first ``count`` frames (default: all that probe
    counted); ``full_rgb`` only for indices in ``full``.

    Raises ``InputError`` when the file cannot be decoded or yields fewer than ``count`` frames.
    """
    count = info.n_frames if count is None else min(count, info.n_frames)
    sw, sh = small_size(info.width, info.height, small_width)
    if info.rotation in (90, 270):
        sw, sh = sh, sw  # the decoder sees the stored (unrotated) picture
    try:
        container = av.open(str(info.path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(info.path, f"cannot be opened for decoding: {exc}") from None
    index = 0
    try:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for frame in container.decode(stream):
            if index >= count:
                break
            small = frame.to_ndarray(width=sw, height=sh, format="bgr24", interpolation="AREA")
            big = frame.to_ndarray(format="rgb24") if index in full else None
            yield (index, _upright(small, info.rotation),
                   None if big is None else _upright(big, info.rotation))
            index += 1
    except av.error.FFmpegError as exc:
        raise InputError(info.path, f"decoding failed at frame {index}: {exc}", "the file is corrupt; re-encode it") from None
    finally:
        container.close()
    if index < count:
        raise InputError(info.path, f"only {index} of its {count} frames could be decoded",
                         "the file is truncated or corrupt")
