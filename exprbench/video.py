"""Video and image I/O used by everything in the toolkit.

Why one module: decoders disagree on frame counts, timestamps and failure modes, and a benchmark is only
reproducible if every component sees the same frames. Decisions made here:

- ``probe`` reads container metadata and demuxes packets (no decoding) to count the frames actually
  present. Containers that over-report their frame count (decord#373: it hangs asking for frames
  that are not there) are therefore clamped to what exists, and a truncated file reports fewer frames.
- Reading streams with PyAV (frame-threaded, sequential) in bounded chunks, so peak memory does not
  grow with the video's length (a decord reader keeps memory for every frame it returns). decord,
  which seeks, still reads a few frames far apart, and the frames whose RGB conversion differs
  between the two (over 8 bits per sample; subsampled chroma at odd sizes): everywhere else both
  give identical pixels, so ``auto`` returns what decord returned before (``_decord_preferred``).
  PyAV takes over when decord cannot open or decode a file. A per-file deadline stops a decode that
  makes no progress. Chunks are bounded in bytes as well as frames (``CHUNK_BYTES``), so an 8K video
  is read a few frames at a time and peak memory does not depend on resolution times chunk length.
- Decoder messages (FFmpeg's ``[h264 @ 0x...] error while decoding MB ...``) are captured through
  FFmpeg's log callback while frames decode, counted in a ``DecodeReport`` and summarised in one
  warning per file, instead of flooding stderr: a damaged file is concealed by the decoder and would
  otherwise be scored silently (``exprbench.decode_log``).
- Resampling to a target fps is by timestamps, in exact rationals: output frame k shows the source
  frame whose presentation interval contains t = k / fps (sample-and-hold, as a player would show it), so
  variable-frame-rate sources and gaps are handled frame-accurately.
- Writing is H.264 through PyAV with an exact rational frame rate (``exprbench.framerate``): yuv420p
  for outputs (even sizes: an odd width or height loses its last column or row, documented, never
  silently resized), or lossless RGB (libx264rgb, qp 0) for benchmark clips, which decode bit for bit.
- Images go through PIL with EXIF orientation applied; alpha is composited on white; greyscale and
  palette images become RGB.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from exprbench.decode_log import DecodeReport, decoding, warn_once
from exprbench.errors import InputError
from exprbench.files import atomic_path
from exprbench.framerate import exact_rate, frames_within

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 32
CHUNK_BYTES = 256 * 2**20  # at most this many bytes of decoded RGB per chunk (at least one frame)
DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe`` learns about a video without decoding it."""

    path: Path
    width: int  # as displayed, i.e. after rotation
    height: int
    fps: float  # average frame rate: frames present / duration
    n_frames: int  # frames present in the file (demuxed packets), which is what readers return
    reported_frames: int  # what the container header claims (0 when it does not say)
    codec: str
    duration: float  # seconds
    rotation: int  # degrees counter-clockwise applied for display: 0, 90, 180 or 270
    pix_fmt: str = ""  # the decoder's pixel format, e.g. yuv420p ("" when the container does not say)
    keyframes: int = 0  # frames present that are keyframes (where a decoder can start)

    @property
    def over_reported(self) -> bool:
        return self.reported_frames > self.n_frames


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(path, "file not found", "check the path")
    if not path.is_file():
        raise InputError(path, "is not a regular file")
    if path.stat().st_size == 0:
        raise InputError(path, "is empty (0 bytes)", "re-download or re-export it")


def _open_container(path: Path) -> av.container.InputContainer:
    _check_file(path)
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.EOFError:
        raise InputError(path, "is truncated: it ends before its header is complete", "re-download or re-export it") from None
    except av.error.InvalidDataError:
        raise InputError(path, "is not a readable video (corrupt, truncated or not a video format)",
                         "re-encode it with ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(path, f"cannot be opened as a video: {exc}") from None
    if not container.streams.video:
        container.close()
        raise InputError(path, "has no video stream", "pass a video file, not audio")
    if container.format.name.endswith("_pipe") or container.format.name == "image2":
        container.close()
        raise InputError(path, "is an image, not a video", "pass a video file (images go where portraits are expected)")
    return container


def _rotation(path: Path) -> int:
    """Display rotation (degrees counter-clockwise) from the first frame's display matrix.

    Phones record portrait video as landscape frames plus this matrix. decord applies it itself;
    PyAV does not, so only the PyAV path rotates (``_rotate``). The default slice threading keeps no
    frames in flight when this stops after one frame (see ``_pyav_decoder``).
    """
    container = _open_container(path)
    try:
        with decoding(DecodeReport()):  # silenced here; counted when the frames are read
            frame = next(container.decode(container.streams.video[0]), None)
        return int(frame.rotation) % 360 if frame is not None else 0
    except av.error.FFmpegError:
        return 0
    finally:
        container.close()


def probe(path: str | Path) -> VideoInfo:
    """Metadata plus the number of frames actually present (packets demuxed, nothing decoded)."""
    path = Path(path)
    container = _open_container(path)
    try:
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise InputError(path, "uses a video codec this FFmpeg build cannot decode", "re-encode it to H.264")
        codec_name = stream.codec_context.name
        # Packets before the stream's start (an edit list trimming encoder priming frames) are decoded
        # but never shown: PyAV drops them and decord pads its output with duplicates instead.
        start = stream.start_time or 0
        pts: list[int] = []
        n = keyframes = 0
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or (packet.pts is not None and packet.pts < start):
                    continue
                n += 1
                keyframes += packet.is_keyframe
                if packet.pts is not None:
                    pts.append(packet.pts)
        except av.error.FFmpegError as exc:
            log.warning("%s: demuxing stopped early (%s); the file looks truncated", path, exc)
        if n == 0:
            raise InputError(path, "contains no video frames", "the file is truncated or empty")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if len(pts) > 1 and stream.time_base:
            span = float((max(pts) - min(pts)) * stream.time_base)
            duration = span * n / (n - 1)  # include the last frame's own interval
        else:
            duration = n / float(rate) if rate else 0.0
        fps = n / duration if duration > 0 else float(rate or 0)
        if stream.frames and stream.frames > n + 8:  # an edit list may hide a few priming frames
            log.warning("%s: header claims %d frames but only %d are present; the file looks truncated",
                        path, stream.frames, n)
        rotation = _rotation(path)
        w, h = stream.codec_context.width, stream.codec_context.height
        if rotation in (90, 270):
            w, h = h, w
        return VideoInfo(path=path, width=w, height=h, fps=fps, n_frames=n, reported_frames=int(stream.frames or 0),
                         codec=codec_name, duration=duration, rotation=rotation,
                         pix_fmt=stream.codec_context.pix_fmt or "", keyframes=keyframes)
    finally:
        container.close()


def _rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    """One RGB frame turned upright (a view). Rotating after the RGB conversion gives decord's pixels
    exactly for the even-sized 8-bit frames PyAV reads (decord transposes before converting)."""
    return np.rot90(image, k=rotation // 90) if rotation else image


class _Deadline:
    """A file that takes longer than its time budget to decode is abandoned with an error naming it.

    Only time spent decoding counts, not the time the caller spends on each chunk (``paused``): eval
    of a 4K, 250-frame pair computes metrics for minutes between chunks, and was stopped as a decode
    that "took longer than 600 s" although decoding it takes about 10 s.
    """

    def __init__(self, path: Path, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.spent, self.since = 0.0, time.monotonic()

    def check(self) -> None:
        if self.spent + time.monotonic() - self.since > self.seconds:
            raise InputError(self.path, f"decoding took longer than {self.seconds:.0f} s and was stopped",
                             "the file may be damaged; re-encode it")

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The caller has the frames (the reader is suspended at a ``yield``): the clock stops."""
        self.spent += time.monotonic() - self.since
        try:
            yield
        finally:
            self.since = time.monotonic()


def _decord_chunks(info: VideoInfo, indices: Sequence[int], chunk: int, deadline: _Deadline,
                   report: DecodeReport) -> Iterator[np.ndarray]:
    import decord

    with decoding(report):  # for the reader's whole life: it decodes ahead in its own thread
        reader = decord.VideoReader(str(info.path), num_threads=2)
        limit = min(len(reader), info.n_frames)
        for start in range(0, len(indices), chunk):
            deadline.check()
            batch = list(indices[start:start + chunk])
            if batch[-1] >= limit:
                raise InputError(info.path, f"decord sees only {limit} of the {info.n_frames} frames present")
            frames = reader.get_batch(batch).asnumpy()
            with deadline.paused():
                yield frames
        del reader


@contextlib.contextmanager
def _pyav_decoder(path: Path, report: DecodeReport) -> Iterator[Iterator[av.VideoFrame]]:
    """The frames of ``path``, decoded with frame threading, for the length of one ``with`` block.

    Why the flush on the way out: PyAV frees a decoder (``avcodec_free_context`` in
    ``CodecContext.__dealloc__``) holding the GIL, and freeing waits for FFmpeg's frame threads to
    finish the frames they hold. Those threads log (a debug line per NAL unit, warnings on damage)
    through ``decode_log``'s Python callback, which needs the GIL: a decoder freed with frames in
    flight (an error or timeout mid-file, Ctrl-C, a caller that stopped early, a read that did not
    need the last frames) deadlocked the process. ``flush_buffers`` waits for those frames with the
    GIL released (PyAV calls it ``nogil``), so whenever and wherever the decoder is freed later, its
    threads are idle.
    """
    container = _open_container(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        with decoding(report):
            try:
                yield container.decode(stream)
            finally:
                stream.codec_context.flush_buffers()
    finally:
        container.close()


def _pyav_chunks(info: VideoInfo, indices: Sequence[int], chunk: int, deadline: _Deadline,
                 report: DecodeReport, into: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Sequential decode that keeps only the requested frames (indices must be non-decreasing), upright.

    Each chunk is filled in place (a slice of ``into`` when given): memory is one chunk plus one frame,
    whatever the video's length.

    ``to_rgb`` is shared by all frames: ``frame.to_ndarray(format=...)`` builds a new scaler with its
    own thread pool for every frame, which made 640x360 H.264 decode 1.8x slower (0.73 s against
    0.41 s for 472 frames); same pixels.
    """
    if not len(indices):
        return
    done, filled, position = 0, 0, -1
    out = None
    to_rgb = VideoReformatter()
    try:
        with _pyav_decoder(info.path, report) as frames:
            for position, frame in enumerate(frames):
                deadline.check()
                if position < indices[done]:
                    continue
                image = _rotate(to_rgb.reformat(frame, format="rgb24").to_ndarray(), info.rotation)
                while done < len(indices) and indices[done] == position:
                    if out is None:
                        n = min(chunk, len(indices) - done)
                        out = into[done:done + n] if into is not None else \
                            np.empty((n, info.height, info.width, 3), np.uint8)
                    out[filled] = image
                    filled, done = filled + 1, done + 1
                    if filled == len(out):
                        with deadline.paused():
                            yield out
                        out, filled = None, 0
                if done == len(indices):
                    return
    except av.error.FFmpegError as exc:
        raise InputError(info.path, f"decoding failed: {exc}", "the file is corrupt; re-encode it") from None
    raise InputError(info.path, f"only {position + 1} frames could be decoded, frame {indices[done]} was requested",
                     "the file is truncated or corrupt")


def _decord_preferred(info: VideoInfo, indices: Sequence[int]) -> bool:
    """Whether ``auto`` reads with decord; everything else streams with PyAV.

    Why PyAV by default: a decord reader keeps memory for every frame it returns (1080p, 400 frames:
    1944 MiB peak against 839 MiB for PyAV, which stays flat in the video's length). decord is kept for:

    - frames whose RGB conversion differs between decord's FFmpeg 4.1 and PyAV's FFmpeg 8: more than 8
      bits per sample (10-bit HEVC: up to 6 levels apart), or subsampled chroma (4:2:0, 4:2:2) at an
      odd width or height (up to 9; H.264 and HEVC cannot code those). decord keeps the pixels every
      earlier run decoded, so scores do not move.
    - a few frames far apart (on average a keyframe interval or more between them): decord seeks to
      the keyframe before each one, where a sequential decode goes through every frame up to the last
      one (the last frame of a 400-frame 1080p clip: 0.85 s against 3.4 s).
    """
    if not info.pix_fmt:
        return True
    layout = av.VideoFormat(info.pix_fmt, info.width, info.height)
    if max(c.bits for c in layout.components) > 8:
        return True
    subsampled = any((c.width, c.height) != (info.width, info.height) for c in layout.components)
    if subsampled and (info.width % 2 or info.height % 2):
        return True
    if not len(indices) or info.keyframes < 2:
        return False
    return (indices[-1] + 1) / len(set(indices)) >= info.n_frames / info.keyframes


def iter_frames(
    path: str | Path | VideoInfo,
    indices: Sequence[int] | None = None,
    chunk: int = DEFAULT_CHUNK,
    timeout: float = DEFAULT_TIMEOUT_S,
    backend: str = "auto",
    report: DecodeReport | None = None,
    into: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Yield RGB uint8 arrays of shape (n<=chunk, H, W, 3), upright, for ``indices`` (default: all frames).

    Memory stays bounded by ``chunk`` frames and ``CHUNK_BYTES``. ``backend`` is ``auto`` (PyAV
    streaming; decord where ``_decord_preferred`` says, then PyAV if decord fails), ``decord`` or
    ``pyav``. Decoder error messages are counted into ``report`` (pass one to read the count) and
    summarised in one warning per file instead of printed. ``into``: a (len(indices), H, W, 3) uint8
    array the frames are decoded into, the chunks being views of it (``read_video``: one copy less).
    """
    info = path if isinstance(path, VideoInfo) else probe(path)
    report = DecodeReport() if report is None else report
    chunk = chunk_frames(info.width, info.height, chunk)
    if indices is None:
        indices = range(info.n_frames)
    if any(b < a for a, b in zip(indices, indices[1:])):
        raise ValueError("indices must be non-decreasing")
    if len(indices) and (indices[-1] >= info.n_frames or indices[0] < 0):
        raise InputError(info.path, f"frame {indices[-1]} was requested but only {info.n_frames} frames are present",
                         "the file is shorter than expected or truncated")
    deadline = _Deadline(info.path, timeout)
    emitted = 0
    if backend == "decord" or (backend == "auto" and _decord_preferred(info, indices)):
        try:
            for frames in _decord_chunks(info, indices, chunk, deadline, report):
                if into is not None:
                    into[emitted:emitted + len(frames)] = frames
                    frames = into[emitted:emitted + len(frames)]
                emitted += len(frames)
                yield frames  # decord applies the display rotation itself
            warn_once(info.path, report)
            return
        except InputError:
            raise
        except Exception as exc:  # decord raises bare DECORDError/RuntimeError on what it cannot decode
            if backend == "decord":
                raise InputError(info.path, f"decord could not decode it: {str(exc).splitlines()[0]}") from None
            log.info("%s: decord failed (%s); falling back to PyAV", info.path, str(exc).splitlines()[0])
    yield from _pyav_chunks(info, indices[emitted:], chunk, deadline, report, None if into is None else into[emitted:])
    warn_once(info.path, report)


def chunk_frames(width: int, height: int, chunk: int = DEFAULT_CHUNK) -> int:
    """Frames per chunk: ``chunk``, fewer when that many frames would exceed ``CHUNK_BYTES``."""
    return max(1, min(chunk, CHUNK_BYTES // max(1, width * height * 3)))


class VideoFrames:
    """Frames of a file, decoded lazily chunk by chunk each time it is iterated: a stand-in for a
    (T, H, W, 3) array where only ``shape`` and chunked iteration are needed, so a long or large
    video never sits in memory whole. ``report`` counts decoder messages of the first full pass
    (later passes decode the same bytes, so they would only repeat it)."""

    def __init__(self, path: str | Path | VideoInfo, indices: Sequence[int] | None = None,
                 chunk: int = DEFAULT_CHUNK) -> None:
        self.info = path if isinstance(path, VideoInfo) else probe(path)
        self.indices = list(range(self.info.n_frames) if indices is None else indices)
        self.chunk = chunk
        self.report = DecodeReport()
        self._counted = False

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.indices), self.info.height, self.info.width, 3)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[np.ndarray]:
        report = DecodeReport() if self._counted else self.report
        for frames in iter_frames(self.info, self.indices, chunk=self.chunk, report=report):
            yield frames
        self._counted = True


def frame_chunks(frames: np.ndarray | VideoFrames) -> tuple[VideoFrames | list[np.ndarray], Path | None]:
    """What the analysers iterate over: a ``VideoFrames`` as it is (decoded chunk by chunk), or an
    in-memory (T, H, W, 3) uint8 array as one chunk; and the source file, if any, for messages."""
    if isinstance(frames, VideoFrames):
        return frames, frames.info.path
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames (T, H, W, 3), got {frames.dtype} {frames.shape}")
    return [frames], None


def read_video(path: str | Path | VideoInfo, indices: Sequence[int] | None = None, **kwargs) -> np.ndarray:
    """All requested frames as one (T, H, W, 3) uint8 array. Use ``iter_frames`` for long videos.

    Frames are decoded straight into the preallocated result (``iter_frames(into=...)``), so peak memory
    is the output plus one frame (one chunk with decord).
    """
    info = path if isinstance(path, VideoInfo) else probe(path)
    count = info.n_frames if indices is None else len(indices)
    out = np.empty((count, info.height, info.width, 3), np.uint8)
    for _ in iter_frames(info, indices, into=out, **kwargs):
        pass
    return out


def frame_timestamps(path: str | Path) -> np.ndarray:
    """Presentation time (s) of every frame present, in decode order, from packet timestamps."""
    return np.array([float(t) for t in frame_times_exact(path)], dtype=np.float64)


def frame_times_exact(path: str | Path) -> list[Fraction]:
    """``frame_timestamps`` as exact rationals (pts * time_base), sorted, the first frame at 0: what
    resampling and length checks use, so a frame count never depends on float rounding."""
    path = Path(path)
    container = _open_container(path)
    try:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        pts = [p.pts for p in container.demux(stream) if p.size > 0 and p.pts is not None and p.pts >= start]
        base = Fraction(stream.time_base)
    finally:
        container.close()
    pts.sort()
    return [(p - pts[0]) * base for p in pts] if pts else []


def clip_end(timestamps: Sequence[float | Fraction]) -> Fraction:
    """Where a clip ends: its last frame is held for one (median) source interval; exact for exact input."""
    times = sorted(Fraction(t) for t in timestamps)
    if not times:
        return Fraction(0)
    if len(times) == 1:
        return times[0]
    return times[-1] + statistics.median(b - a for a, b in zip(times, times[1:]))


def resample_indices(timestamps: Sequence[float | Fraction], fps: float | Fraction, max_frames: int | None = None,
                     start: float | Fraction = 0.0) -> np.ndarray:
    """Source frame index for each output frame at ``fps`` (sample-and-hold by timestamps).

    Output frame k is shown at t_k = start + k / rate, with ``rate = exact_rate(fps)`` (29.97 means
    30000/1001), and takes the last source frame whose timestamp is <= t_k. There are as many output
    frames as sample times before the clip's end (``clip_end``; ``framerate.frames_within``). Exact
    (Fraction) timestamps are compared exactly; float timestamps with a tolerance of 1e-6 s that absorbs
    their rounding. A single frame covers one output interval.
    """
    if len(timestamps) == 0:
        return np.zeros(0, dtype=np.int64)
    rate = exact_rate(fps)
    exact = all(isinstance(t, Fraction) for t in timestamps)
    tol = Fraction(0) if exact else Fraction(1, 10**6)
    times = sorted(Fraction(t) for t in timestamps)
    end = clip_end(times) if len(times) > 1 else times[0] + 1 / rate
    n_out = frames_within(end - tol, rate, Fraction(start))
    if max_frames is not None:
        n_out = min(n_out, max_frames)
    idx = [bisect.bisect_right(times, Fraction(start) + k / rate + tol) - 1 for k in range(n_out)]
    return np.clip(np.asarray(idx, dtype=np.int64), 0, len(times) - 1)


def read_resampled(path: str | Path, fps: float | Fraction, max_frames: int | None = None,
                   start: float | Fraction = 0.0, **kwargs) -> np.ndarray:
    """Frames resampled to ``fps`` (see ``resample_indices``), e.g. the benchmark's 25 fps clips."""
    indices = resample_indices(frame_times_exact(path), fps, max_frames=max_frames, start=start)
    return read_video(path, indices.tolist(), **kwargs)


class VideoWriter:
    """Streaming H.264 writer with an exact rational frame rate (``exact_rate``: 29.97 is 30000/1001).

    Frames are RGB uint8 (H, W, 3). Two encodings:

    - default: yuv420p at ``crf``, what methods' outputs use. Odd sizes lose their last row/column
      (yuv420p needs even sizes).
    - ``lossless=True``: RGB with no chroma subsampling (libx264rgb, qp 0, High 4:4:4 Predictive, decoded
      as gbrp): decoded frames equal the written frames bit for bit with both decord and PyAV, at any
      size. Benchmark clips use it, so ground truth is the resampled source itself (protocol
      ``frames.storage``), at roughly 10-20x the size of CRF 12.

    The file is written through ``exprbench.files.atomic_path`` (a unique temp name, renamed on close),
    so a crash leaves no half video under the final name and two writers of one path never collide.
    """

    def __init__(self, path: str | Path, fps: float | Fraction, crf: int = 18, preset: str = "medium",
                 lossless: bool = False) -> None:
        self.path = Path(path)
        self.rate = exact_rate(fps)
        self.crf, self.preset, self.lossless = crf, preset, lossless
        self._pending = contextlib.ExitStack()
        self._container = None
        self._stream = None
        self._count = 0

    def __enter__(self) -> VideoWriter:
        return self

    def _open(self, height: int, width: int) -> None:
        tmp = self._pending.enter_context(atomic_path(self.path))
        self._container = av.open(str(tmp), mode="w", format="mp4")
        if self.lossless:
            stream = self._container.add_stream("libx264rgb", rate=self.rate)
            stream.width, stream.height = width, height
            stream.pix_fmt = "rgb24"
            stream.options = {"qp": "0", "preset": self.preset}
        else:
            stream = self._container.add_stream("libx264", rate=self.rate)
            stream.width, stream.height = width - width % 2, height - height % 2
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(self.crf), "preset": self.preset}
        stream.time_base = 1 / self.rate
        stream.codec_context.time_base = 1 / self.rate
        self._stream = stream

    def write(self, frames: np.ndarray) -> None:
        """Append one frame (H, W, 3) or a batch (T, H, W, 3) of RGB uint8."""
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"expected uint8 frames of shape (T, H, W, 3), got {frames.dtype} {frames.shape}")
        if self._container is None:
            self._open(frames.shape[1], frames.shape[2])
        h, w = self._stream.height, self._stream.width
        for image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
            frame.pts = self._count
            self._count += 1
            self._container.mux(self._stream.encode(frame))

    def close(self) -> None:
        if self._container is None:
            return
        self._container.mux(self._stream.encode(None))
        self._container.close()
        self._container = None
        self._pending.close()

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if exc_type is None:
            self.close()
        else:
            if self._container is not None:
                self._container.close()
                self._container = None
            self._pending.__exit__(exc_type, exc, tb)


def write_video(path: str | Path, frames: np.ndarray | Sequence[np.ndarray], fps: float | Fraction, **kwargs) -> Path:
    """Write RGB uint8 frames as an H.264 mp4 at exactly ``fps`` (``VideoWriter`` options, e.g.
    ``lossless=True``); returns the path."""
    with VideoWriter(path, fps, **kwargs) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)


def load_image(path: str | Path) -> np.ndarray:
    """An RGB uint8 (H, W, 3) array, upright per EXIF, alpha composited on white, greyscale expanded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    _check_file(path)
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image.load()
    except UnidentifiedImageError:
        raise InputError(path, "is not a readable image", "use PNG, JPEG, WebP, BMP or TIFF") from None
    except (OSError, SyntaxError) as exc:
        raise InputError(path, f"image is corrupt or truncated: {exc}") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def save_image(path: str | Path, image: np.ndarray) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(path)
    return path
