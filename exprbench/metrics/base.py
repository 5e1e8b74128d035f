"""The two metric interfaces eval drives, their results, and the "weights missing" error.

- ``PairedVideoMetric`` (PSNR, SSIM, LPIPS): frame i of a generated video against frame i of a
  reference video. ``update`` may be called chunk by chunk (decoded chunks from ``iter_frames``) and
  returns that chunk's per-frame values; ``compute_video`` reduces the frames seen so far with the
  protocol's per-video rule and starts the next video.
- ``SetMetric`` (FID, FVD): features of generated and reference videos pooled over a split into
  streaming float64 statistics; ``compute`` gives one Frechet distance. ``features`` is separate from
  ``add_*`` so eval can cache a video's features by content hash and add them later without
  re-running the network.

Feature networks are injectable (``FeatureNetwork``) so the plumbing can be tested with small
stand-in networks where the real weights are absent; the network's ``name`` is carried into every
result so a stand-in number can never pass for a real FID.
"""

from __future__ import annotations

import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import torch

from exprbench.assets import asset_path
from exprbench.errors import AssetError, ChecksumError, ExprBenchError, InputError
from exprbench.metrics.frames import (
    Frames,
    frame_count,
    frame_size,
    prepare,
    resize_unit,
    to_unit_tensor,
)
from exprbench.metrics.frechet import FeatureStats, stats_distance
from exprbench.protocol import MetricProtocol, metric_protocol

log = logging.getLogger(__name__)

Side = Literal["generated", "reference"]

# float32 bytes of one side of one paired-metric batch. Why: a batch of 16 4K frames is 1.6 GB of float32
# per side before a metric makes its own float64 maps from it; frames are scored one by one (PSNR, SSIM)
# or as one network batch (LPIPS), so this only bounds memory: below about 2.8 megapixels per frame it is
# never reached at the default batch sizes, and above it LPIPS gets smaller batches (parity-tested).
BATCH_BYTES = 256 * 2**20


class MetricUnavailable(ExprBenchError):
    """A metric cannot run because its network weights are not installed; other metrics can go on."""

    exit_code = 3

    def __init__(self, key: str, asset: str, what: str, filename: str, cause: Exception | None = None) -> None:
        self.key = key
        self.asset = asset
        self.fetch_command = f"exprbench assets fetch {asset}"
        if isinstance(cause, ChecksumError):
            message = f"{key} is unavailable: {cause}"
        else:
            message = (f"{key} is unavailable: {what} (asset {asset}) is not installed; run "
                       f"'{self.fetch_command}' on a machine with internet, or put {filename} in "
                       "$EXPRBENCH_ASSET_DIR")
        super().__init__(message)


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``cuda:N``; a one-line error otherwise.

    Why strict: asking for CUDA and silently getting the CPU would hide a broken CUDA install behind a
    run that is 20x slower; asking for a GPU that does not exist must fail before any work starts.
    """
    text = str(spec).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(text)
    except RuntimeError as exc:
        raise InputError(None, f"--device {spec!r} is not a device", "use auto, cpu, cuda or cuda:N") from exc
    if device.type == "cpu":
        return torch.device("cpu")
    if device.type != "cuda":
        raise InputError(None, f"--device {spec!r} is not supported", "use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise InputError(None, f"--device {spec} asked for CUDA, but torch {torch.__version__} sees no CUDA device",
                         "install a CUDA build of torch and check nvidia-smi, or use --device cpu")
    index = 0 if device.index is None else device.index
    if index >= torch.cuda.device_count():
        raise InputError(None, f"--device {spec}: there is no CUDA device {index} "
                         f"({torch.cuda.device_count()} visible)", "use cuda:0 .. cuda:N-1 or check CUDA_VISIBLE_DEVICES")
    return torch.device("cuda", index)


@contextlib.contextmanager
def exact_float32() -> Iterator[None]:
    """Full float32 matrix and convolution arithmetic (no TF32) for metric networks, then restore.

    Why: PyTorch lets cuDNN use TF32 for float32 convolutions by default, a 10-bit mantissa that moves
    LPIPS and Inception features by about 1e-3 relative, outside the device-parity tolerances of
    ``PROTOCOL.parity``; on the CPU these flags change nothing.
    """
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def load_asset_or_unavailable(key: str, asset: str, what: str, filename: str) -> Path:
    """``asset_path(asset)``, turning a missing or refused file into ``MetricUnavailable``."""
    try:
        return asset_path(asset)
    except AssetError as exc:
        raise MetricUnavailable(key, asset, what, filename, exc) from exc


@dataclass(frozen=True)
class VideoScore:
    """One video's result: the per-video value, the per-frame values, and the scored fraction."""

    value: float
    per_frame: np.ndarray
    coverage: float

    @property
    def n_frames(self) -> int:
        return int(self.per_frame.shape[0])


def _take(frames: Frames, rows: np.ndarray) -> Frames:
    """Rows of a frame array or tensor; a contiguous run is a view, not a copy."""
    if rows.size and rows[-1] - rows[0] == rows.size - 1:
        return frames[int(rows[0]):int(rows[-1]) + 1]
    return frames[rows] if isinstance(frames, np.ndarray) else frames[torch.from_numpy(rows)]


def frames_to_device(frames: Frames, device: torch.device) -> Frames:
    """uint8 arrays stay arrays on the CPU (``to_unit_tensor`` converts them); elsewhere a tensor on ``device``.

    On CUDA the uint8 frames travel as they are, so the division by 255 happens on the GPU.
    """
    if device.type == "cpu":
        return frames
    if isinstance(frames, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(frames)).to(device, non_blocking=True)
    return frames.to(device, non_blocking=True)


class PairedVideoMetric(ABC):
    """A metric of generated frame i against reference frame i, reduced per video."""

    name: ClassVar[str]

    def __init__(self, batch_size: int = 16, device: str | torch.device = "cpu") -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self.protocol: MetricProtocol = metric_protocol(self.name)
        self._values: list[np.ndarray] = []

    @property
    def key(self) -> str:
        return self.protocol.key

    @abstractmethod
    def _score_batch(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        """Per-frame float64 values for ``(n, 3, H, W)`` float32 frames in [0, 1] of equal size."""

    def reduce_video(self, per_frame: np.ndarray) -> float:
        """The protocol's per-video reduction: mean over scored (non-NaN) frames; NaN if none."""
        finite = per_frame[~np.isnan(per_frame)]
        return float(finite.mean()) if finite.size else float("nan")

    def update(self, generated: Frames, reference: Frames, valid: np.ndarray | None = None) -> np.ndarray:
        """Score a chunk of frame pairs and append it to the current video; returns per-frame values.

        ``generated`` and ``reference``: ``(T, H, W, 3)`` uint8 or ``(T, 3, H, W)`` float32 in [0, 1]
        with equal T. A generated frame of another size is resized to the reference size (protocol
        rule). ``valid`` (bool, T): frames marked False (e.g. the face was not found) are not scored
        and get NaN.
        """
        n = frame_count(generated)
        if frame_count(reference) != n:
            raise ValueError(f"{n} generated frames against {frame_count(reference)} reference frames")
        mask = np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
        if mask.shape != (n,):
            raise ValueError(f"valid mask has shape {mask.shape}, expected ({n},)")
        values = np.full(n, np.nan, dtype=np.float64)
        index = np.flatnonzero(mask)
        height, width = (max(a, b) for a, b in zip(frame_size(generated), frame_size(reference)))
        step = max(1, min(self.batch_size, BATCH_BYTES // (3 * height * width * 4)))
        for start in range(0, index.size, step):
            rows = index[start:start + step]
            values[rows] = self._score_rows(_take(generated, rows), _take(reference, rows))
        self._values.append(values)
        return values

    def _score_rows(self, generated: Frames, reference: Frames) -> np.ndarray:
        """One batch as given to ``update``: converted to float [0, 1] on the metric's device, then scored.

        The conversion runs on the device (uint8 crosses the bus, a quarter of float32's bytes); a
        subclass with an exact path for some inputs (PSNR on uint8) overrides this.
        """
        gen = resize_unit(to_unit_tensor(frames_to_device(generated, self.device)), frame_size(reference))
        ref = to_unit_tensor(frames_to_device(reference, self.device))
        return self._score_batch(gen, ref)

    def compute_video(self) -> VideoScore:
        """Reduce the frames given since the last call and start a new video."""
        per_frame = np.concatenate(self._values) if self._values else np.zeros(0, dtype=np.float64)
        self._values = []
        coverage = float(np.mean(~np.isnan(per_frame))) if per_frame.size else 0.0
        return VideoScore(value=self.reduce_video(per_frame), per_frame=per_frame, coverage=coverage)

    def score(self, generated: Frames, reference: Frames, valid: np.ndarray | None = None) -> VideoScore:
        """One whole video: ``update`` then ``compute_video``."""
        self._values = []
        self.update(generated, reference, valid)
        return self.compute_video()


@dataclass(frozen=True)
class FeatureNetwork:
    """A feature extractor for a set metric.

    ``name`` identifies network and weights (it goes into results, config.json and cache keys);
    ``forward`` maps the metric's prepared input batch to ``(n, dim)`` features.
    """

    name: str
    forward: Callable[[torch.Tensor], torch.Tensor]
    dim: int


@dataclass(frozen=True)
class SetScore:
    """One set metric value with the sample sizes and caveats needed to read it."""

    key: str
    value: float
    network: str
    n_generated: int
    n_reference: int
    videos_generated: int
    videos_reference: int
    warnings: tuple[str, ...] = field(default_factory=tuple)


class SetMetric(ABC):
    """A Frechet distance between generated and reference features pooled over a split."""

    name: ClassVar[str]

    def __init__(self, network: FeatureNetwork | None = None, batch_size: int = 16,
                 device: str | torch.device = "cpu") -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self.protocol: MetricProtocol = metric_protocol(self.name)
        self.network = network if network is not None else self.default_network(self.device)
        self.reset()

    @property
    def key(self) -> str:
        return self.protocol.key

    @classmethod
    @abstractmethod
    def default_network(cls, device: torch.device) -> FeatureNetwork:
        """The protocol's network with its real weights; raises ``MetricUnavailable`` without them."""

    @abstractmethod
    def features(self, frames: Frames) -> np.ndarray:
        """``(n, dim)`` float32 features of one video (all frames for FID, windows for FVD)."""

    def prepare_frames(self, frames: Frames) -> torch.Tensor:
        """Frames as the network takes them: float [0, 1] at the protocol's size, on the metric's device.

        ``features`` gives the same values for these as for the raw frames (conversion and resizing are
        per frame, and a frame already at the size is not resampled), so a stream can keep prepared
        frames, a fraction of a large video's bytes, while it waits for a full block."""
        return prepare(frames_to_device(frames, self.device), self.protocol.size)

    def block_frames(self) -> int | None:
        """A frame count such that the features of consecutive blocks of that many frames, concatenated,
        are the features of the whole video (the network sees the same batches); None if no such count
        exists. FID batches frames independently: ``batch_size``."""
        return self.batch_size

    def stream(self) -> FeatureStream:
        """A ``FeatureStream`` for one video fed chunk by chunk."""
        return FeatureStream(self)

    def reset(self) -> None:
        self.stats = {"generated": FeatureStats(self.network.dim), "reference": FeatureStats(self.network.dim)}
        self.videos = {"generated": 0, "reference": 0}
        self.empty_videos = {"generated": 0, "reference": 0}

    def add_features(self, side: Side, features: np.ndarray, videos: int = 1) -> None:
        """Add precomputed (e.g. cached) features of ``videos`` videos to one side."""
        self.stats[side].update(features)
        self.videos[side] += videos
        if len(features) == 0:
            self.empty_videos[side] += videos

    def merge(self, other: SetMetric) -> None:
        """Add another instance's samples (e.g. from a worker process); both must use the same network."""
        if other.key != self.key or other.network.name != self.network.name:
            raise ValueError(f"cannot merge {other.key} ({other.network.name}) into {self.key} ({self.network.name})")
        for side in ("generated", "reference"):
            self.stats[side].merge(other.stats[side])
            self.videos[side] += other.videos[side]
            self.empty_videos[side] += other.empty_videos[side]

    def update_generated(self, frames: Frames) -> np.ndarray:
        """Add one generated video; returns its features (for caching)."""
        feats = self.features(frames)
        self.add_features("generated", feats)
        return feats

    def update_reference(self, frames: Frames) -> np.ndarray:
        """Add one reference (ground-truth) video; returns its features (for caching)."""
        feats = self.features(frames)
        self.add_features("reference", feats)
        return feats

    def _run(self, batch: torch.Tensor) -> np.ndarray:
        with torch.inference_mode(), exact_float32():
            out = self.network.forward(batch.to(self.device))
        out = out.reshape(out.shape[0], -1).to("cpu", torch.float32).numpy()
        if out.shape[1] != self.network.dim:
            raise ValueError(f"{self.network.name} returned {out.shape[1]}-d features, expected {self.network.dim}")
        return out

    def _sample_warnings(self) -> list[str]:
        notes = []
        for side in ("generated", "reference"):
            n = self.stats[side].count
            if n < self.network.dim:
                notes.append(f"{side}: {n} samples for {self.network.dim}-d features, so the covariance is "
                             "rank-deficient and the distance is biased; compare values only at equal sample sizes")
        return notes

    def warnings(self) -> list[str]:
        """Caveats about the current sample (sizes below what the protocol considers meaningful)."""
        return self._sample_warnings()

    def compute(self) -> SetScore:
        """The Frechet distance of the pooled statistics (NaN if a side has fewer than 2 samples)."""
        gen, ref = self.stats["generated"], self.stats["reference"]
        notes = self.warnings()
        if gen.count < 2 or ref.count < 2:
            value = float("nan")
            notes.append(f"needs at least 2 samples per side (generated {gen.count}, reference {ref.count})")
        else:
            value = stats_distance(gen, ref)
        for note in notes:
            log.warning("%s: %s", self.key, note)
        return SetScore(key=self.key, value=value, network=self.network.name, n_generated=gen.count,
                        n_reference=ref.count, videos_generated=self.videos["generated"],
                        videos_reference=self.videos["reference"], warnings=tuple(notes))


class FeatureStream:
    """The features of one video fed chunk by chunk, in memory bounded by a block, not by the video.

    Equal to ``metric.features(whole video)``: frames are prepared (``SetMetric.prepare_frames``) as they
    arrive and handed to the network in whole blocks (``SetMetric.block_frames``) counted from the first
    frame, so every batch the network sees is the one it would see on the whole video.
    """

    def __init__(self, metric: SetMetric) -> None:
        self.metric = metric
        self._pending: torch.Tensor | None = None
        self._features: list[np.ndarray] = []

    def add(self, frames: Frames) -> None:
        prepared = self.metric.prepare_frames(frames)
        self._pending = prepared if self._pending is None else _join(self._pending, prepared)
        block = self.metric.block_frames()
        ready = len(self._pending) // block * block if block else 0
        if ready:
            self._features.append(self.metric.features(self._pending[:ready]))
            self._pending = self._pending[ready:] if ready < len(self._pending) else None

    def finish(self) -> np.ndarray:
        """The video's ``(n, dim)`` features; the stream is empty afterwards."""
        if self._pending is not None and len(self._pending):
            self._features.append(self.metric.features(self._pending))
        out = self._features or [np.zeros((0, self.metric.network.dim), dtype=np.float32)]
        self._pending, self._features = None, []
        return np.concatenate(out)


def _join(pending: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """``pending`` then ``new`` in ``new``'s memory layout. Why: a convolution picks its kernel by layout
    (prepared frames are channels-last), and another kernel rounds differently, so a batch built from
    chunks must be laid out as the batch built from the whole video to give the same bits."""
    layout = (torch.channels_last if new.dim() == 4 and not new.is_contiguous()
              and new.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format)
    return torch.cat([pending, new]).contiguous(memory_format=layout)
