"""Reading and writing videos with PyAV; kept in one place so the project's video module can replace it."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_video(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames as RGB uint8 [T, H, W, 3] and the stream's frame rate."""
    import av

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: driving video not found")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    if not frames:
        raise ValueError(f"{path}: the video has no frames")
    return np.stack(frames), fps


def write_video(path: str | Path, frames: np.ndarray, fps: float) -> None:
    """Write RGB uint8 [T, H, W, 3] frames as H.264 (crf 18, yuv420p)."""
    from fractions import Fraction

    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.height, stream.width = frames.shape[1], frames.shape[2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode())
