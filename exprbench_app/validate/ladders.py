"""Controlled quality ladders built from a benchmark's own items: what ``exprbench validate`` scores.

Why ladders: a metric is only worth ranking on if it orders outputs whose quality we *know*. Each
ladder is a sequence of rungs from best (rung 0) to worst, made by one controlled change: the landmark
warp at decreasing strength, pixel degradations of the ground truth, broken timing, or the wrong
person. Every rung is written as an ordinary results folder (``results/<rung>/<item>.mp4``) and scored
by the normal eval path, so the validation checks exactly the code that scores methods.

Rung videos (except the H.264 CRF rungs, whose codec loss is the degradation) are written losslessly
(libx264rgb, qp 0): the degradation applied is the only difference from the ground truth.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from exprbench.benchmark.manifest import MANIFEST_NAME, Benchmark, Item
from exprbench.errors import InputError
from exprbench.files import atomic_path, atomic_write, sha256_file
from exprbench.video import load_image, read_video, write_video

log = logging.getLogger(__name__)

SHUFFLE_SEED = 0
NOISE_SEED = 0


@dataclass(frozen=True)
class Rung:
    """One output condition: ``method`` names its results folder; ``kind``/``param`` say how it is made.

    Rungs with the same ``method`` are the same videos (e.g. the plain ground truth is rung 0 of every
    degradation and time ladder) and are generated and scored once.
    """

    method: str
    kind: str  # gt, blur, noise, crf, shift, lag, frozen, shuffle, warp, driving, driving-lag
    param: float = 0.0
    label: str = ""


@dataclass(frozen=True)
class Ladder:
    """Rungs ordered best first, in one mode; ``metrics`` are the metric names expected to order it."""

    name: str
    mode: str
    rungs: tuple[Rung, ...]
    metrics: tuple[str, ...]
    why: str = ""


GT = Rung("gt", "gt", 0.0, "ground truth")


def _rung(kind: str, value: float, unit: str = "") -> Rung:
    return GT if value == 0 else Rung(f"{kind}-{value:g}", kind, float(value), f"{kind} {value:g}{unit}")


def _warp(strength: float) -> Rung:
    return Rung(f"warp-{strength:g}", "warp", float(strength), f"warp strength {strength:g}")


DRIVING = Rung("driving", "driving", 0.0, "driving video (wrong person)")


def _driving_lag(k: int) -> Rung:
    return DRIVING if k == 0 else Rung(f"driving-lag-{k}", "driving-lag", float(k), f"driving video lag {k}")


STRENGTHS = (1.0, 0.75, 0.5, 0.25, 0.0)  # best first
PIXEL_METRICS = ("psnr", "ssim", "lpips", "lmd", "fid", "fvd")
TIME_METRICS = ("lmd", "psnr", "ssim", "mae", "aed", "apd")
MOTION_METRICS = ("aed", "apd", "mae", "lmd", "motion")

# The explicit table of what each ladder must order (metric names; the mode filters them by the
# registry, and metrics whose column eval did not write are skipped).
LADDERS: tuple[Ladder, ...] = (
    Ladder("strength", "self", tuple(_warp(s) for s in STRENGTHS), MOTION_METRICS,
           "the landmark warp with its motion scaled down to 0 (= static)"),
    Ladder("strength", "cross", tuple(_warp(s) for s in STRENGTHS), MOTION_METRICS,
           "the landmark warp with its motion scaled down to 0 (= static)"),
    Ladder("blur", "self", tuple(_rung("blur", s) for s in (0, 1, 2, 4)), PIXEL_METRICS,
           "gaussian blur of the ground truth, sigma in px"),
    Ladder("noise", "self", tuple(_rung("noise", s) for s in (0, 5, 10, 20)), PIXEL_METRICS,
           "additive gaussian noise on the ground truth, std on 0-255"),
    Ladder("crf", "self", (GT, *(Rung(f"crf-{c}", "crf", float(c), f"H.264 CRF {c}") for c in (18, 28, 38, 48))),
           PIXEL_METRICS, "the ground truth re-encoded with H.264 yuv420p at rising CRF"),
    Ladder("shift", "self", tuple(_rung("shift", s) for s in (0, 2, 4, 8)), PIXEL_METRICS,
           "the ground truth shifted right and down by s px (edge replicated)"),
    Ladder("lag", "self", tuple(_rung("lag", k) for k in (0, 2, 4, 8)), TIME_METRICS,
           "output frame t = ground-truth frame max(t - k, 0)"),
    Ladder("frozen", "self", tuple(_rung("frozen", f) for f in (0, 0.25, 0.5, 1)), TIME_METRICS,
           "the last fraction f of the frames frozen on the frame before them (f = 1: frame 0 throughout)"),
    Ladder("shuffle", "self", tuple(_rung("shuffle", f) for f in (0, 0.25, 0.5, 1)), TIME_METRICS,
           "a seeded fraction f of the frames permuted among themselves (every chosen frame moves)"),
    Ladder("lag", "cross", tuple(_driving_lag(k) for k in (0, 2, 4, 8)), ("aed", "apd", "mae", "motion"),
           "the driving video itself as the output (perfect relative motion), lagged by k frames: the one "
           "cross-mode ladder whose pose, expression and gaze truth is known exactly (a 2D warp's pose is not)"),
    Ladder("identity", "cross", (_warp(1.0), DRIVING),
           ("csim",), "the driving video itself, resized to the portrait: perfect motion, wrong person"),
)


def ladder_names() -> list[str]:
    return sorted({lad.name for lad in LADDERS})


# ---- frame transforms (pure functions on (T, H, W, 3) uint8 arrays) ----------------------------------
def blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with std ``sigma`` px in both axes (not across channels or time); 0 is the input."""
    if sigma == 0:
        return frames.copy()
    from scipy.ndimage import gaussian_filter

    out = gaussian_filter(frames.astype(np.float32), sigma=(0, sigma, sigma, 0), mode="nearest")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def add_noise(frames: np.ndarray, std: float, seed: int = NOISE_SEED) -> np.ndarray:
    """Additive gaussian noise of std ``std`` on the 0-255 scale, seeded, rounded and clipped to uint8."""
    if std == 0:
        return frames.copy()
    noise = np.random.default_rng(seed).normal(0.0, std, frames.shape)
    return np.clip(np.rint(frames.astype(np.float64) + noise), 0, 255).astype(np.uint8)


def shift(frames: np.ndarray, px: int) -> np.ndarray:
    """Content moved ``px`` pixels right and down; the uncovered border repeats the edge row/column."""
    px = int(px)
    if px == 0:
        return frames.copy()
    padded = np.pad(frames, ((0, 0), (px, 0), (px, 0), (0, 0)), mode="edge")
    return padded[:, : frames.shape[1], : frames.shape[2]].copy()


def lag(frames: np.ndarray, k: int) -> np.ndarray:
    """Output frame t is input frame max(t - k, 0): the output trails the driving motion by k frames."""
    index = np.maximum(np.arange(len(frames)) - int(k), 0)
    return frames[index].copy()


def frozen(frames: np.ndarray, fraction: float) -> np.ndarray:
    """The last round(fraction * (T - 1)) frames hold the frame before them (nested: more f, more frozen)."""
    n = len(frames)
    held = int(round(fraction * (n - 1)))
    index = np.minimum(np.arange(n), n - 1 - held)
    return frames[index].copy()


def shuffle_index(n: int, fraction: float, seed: int = SHUFFLE_SEED) -> np.ndarray:
    """A frame order where round(fraction * n) seeded positions are permuted cyclically (Sattolo), so each
    chosen frame moves; the chosen positions are nested (a larger fraction keeps the smaller's)."""
    rng = np.random.default_rng(seed)
    positions = rng.permutation(n)[: int(round(fraction * n))]
    index = np.arange(n)
    if len(positions) < 2:
        return index
    order = list(range(len(positions)))
    for i in range(len(order) - 1, 0, -1):  # Sattolo: a single cycle, no fixed points
        j = int(rng.integers(0, i))
        order[i], order[j] = order[j], order[i]
    index[positions] = positions[order]
    return index


def shuffle(frames: np.ndarray, fraction: float, seed: int = SHUFFLE_SEED) -> np.ndarray:
    return frames[shuffle_index(len(frames), fraction, seed)].copy()


def resize_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Frames at ``width`` x ``height``: the largest centred crop of that aspect, then a bicubic resize, so a
    face is scaled, never squashed (a squashed face changes its blendshapes and pose, measured: the driving
    video stretched to the portrait's aspect scored AED 0.062 against itself, close to static's 0.072)."""
    from PIL import Image

    if frames.shape[1:3] == (height, width):
        return frames.copy()
    h, w = frames.shape[1:3]
    if w * height > h * width:  # too wide: crop the sides
        cw = round(h * width / height)
        frames = frames[:, :, (w - cw) // 2:(w - cw) // 2 + cw]
    else:
        ch = round(w * height / width)
        frames = frames[:, (h - ch) // 2:(h - ch) // 2 + ch]
    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(f)).resize((width, height), Image.BICUBIC))
                     for f in frames])


TRANSFORMS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "gt": lambda f, _: f.copy(), "blur": blur, "noise": add_noise, "shift": lambda f, p: shift(f, int(p)),
    "lag": lambda f, k: lag(f, int(k)), "frozen": frozen, "shuffle": shuffle,
}


# ---- writing -----------------------------------------------------------------------------------------
def write_lossless(path: Path, frames: np.ndarray, fps: float) -> Path:
    """RGB frames as H.264 RGB at qp 0 (libx264rgb): they decode bit for bit as written.

    Written through ``atomic_path``, so an interrupted run leaves no half video under the name.
    """
    path = Path(path)
    rate = Fraction(fps).limit_denominator(1001)
    h, w = frames.shape[1] - frames.shape[1] % 2, frames.shape[2] - frames.shape[2] % 2
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264rgb", rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "rgb24"
        stream.options = {"qp": "0", "preset": "ultrafast"}
        stream.time_base = stream.codec_context.time_base = 1 / rate
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


# ---- building rungs ----------------------------------------------------------------------------------
@dataclass
class BuildPlan:
    """Where rungs are written and what they are made of (recorded per rung, so a rerun reuses them)."""

    bench: Benchmark
    results: Path
    work: Path
    frames: int | None = None  # truncate every rung video to its first ``frames`` frames

    def n(self, item: Item) -> int:
        return item.frames if self.frames is None else min(self.frames, item.frames)


def _ground_truth(bench: Benchmark, item: Item, n: int) -> np.ndarray:
    if item.ground_truth is None:
        raise InputError(bench.root / "manifest.json", f"self item {item.id} has no ground_truth")
    frames = read_video(bench.path(item.ground_truth), list(range(n)))
    if len(frames) < n:
        raise InputError(bench.path(item.ground_truth), f"has {len(frames)} frames; {n} are needed")
    return frames


def _driving_video(bench: Benchmark, item: Item) -> Path | None:
    """The one video that drives the whole portrait (None when each face has its own driver)."""
    if item.driving_multi:
        return bench.path(item.driving_multi)
    if item.driving and len(item.driving) == 1:
        return bench.path(item.driving[0])
    return None


def rung_items(rung: Rung, items: list[Item], bench: Benchmark) -> list[Item]:
    """The items a rung applies to: warp all; driving cross items with one driver; the rest self items."""
    if rung.kind == "warp":
        return list(items)
    if rung.kind in ("driving", "driving-lag"):
        return [i for i in items if i.mode == "cross" and _driving_video(bench, i) is not None]
    return [i for i in items if i.mode == "self"]


def _record(plan: BuildPlan, rung: Rung, items: list[Item]) -> dict:
    """What a rung's videos are made of: another benchmark, item set, frame budget or seed rebuilds it."""
    manifest = sha256_file(plan.bench.root / MANIFEST_NAME)
    return {"method": rung.method, "kind": rung.kind, "param": rung.param, "frames": plan.frames,
            "items": sorted(i.id for i in items), "shuffle_seed": SHUFFLE_SEED, "noise_seed": NOISE_SEED,
            "bench": str(plan.bench.root.resolve()), "manifest_sha256": manifest}


def rung_record_path(results: Path, rung: Rung) -> Path:
    return Path(results) / rung.method / "rung.json"


def is_built(plan: BuildPlan, rung: Rung, items: list[Item]) -> bool:
    target = rung_record_path(plan.results, rung)
    if not target.is_file():
        return False
    try:
        return json.loads(target.read_text()) == _record(plan, rung, items)
    except json.JSONDecodeError:
        return False


def build_rung(plan: BuildPlan, rung: Rung, items: list[Item]) -> bool:
    """Write ``results/<rung.method>/<item>.mp4`` for ``items``; returns False when reused as built."""
    if is_built(plan, rung, items):
        return False
    folder = plan.results / rung.method
    if folder.exists():
        shutil.rmtree(folder)  # built for another item set or frame count: stale
    if rung.kind == "warp":
        _build_warp(plan, rung, items)
    else:
        for item in items:
            _build_item(plan, rung, item, folder / f"{item.id}.mp4")
    atomic_write(rung_record_path(plan.results, rung), json.dumps(_record(plan, rung, items), indent=1) + "\n")
    return True


def _build_item(plan: BuildPlan, rung: Rung, item: Item, target: Path) -> None:
    """One item of a rung made from the benchmark's own videos (ground truth or driving)."""
    bench, n = plan.bench, plan.n(item)
    if rung.kind in ("driving", "driving-lag"):
        width, height = load_image(bench.path(item.portrait)).shape[1::-1]
        frames = resize_frames(read_video(_driving_video(bench, item), list(range(n))), width, height)
        write_lossless(target, lag(frames, int(rung.param)) if rung.kind == "driving-lag" else frames, item.fps)
    elif rung.kind == "crf":  # the codec loss is the degradation: written by the benchmark's own H.264 writer
        write_video(target, _ground_truth(bench, item, n), item.fps, crf=int(rung.param))
    else:
        write_lossless(target, TRANSFORMS[rung.kind](_ground_truth(bench, item, n), rung.param), item.fps)


def _build_warp(plan: BuildPlan, rung: Rung, items: list[Item]) -> None:
    """The warp baseline at ``rung.param`` through the generation harness, asked for only the frame budget
    (the job's frame count is what the harness enforces), then rewritten losslessly under the rung's name."""
    from baselines import generate_items
    from baselines.warp import WarpAdapter

    adapter = WarpAdapter(strength=rung.param)
    work = plan.work / rung.method
    if work.exists():
        shutil.rmtree(work)  # generated for another frame budget or item set (the harness would skip them)
    budget = [replace(item, frames=plan.n(item)) for item in items]
    outcomes = generate_items(adapter, plan.bench, budget, work)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise InputError(work, f"warp strength {rung.param:g} failed on {len(failed)} item(s): "
                               + "; ".join(f"{o.item_id}: {o.error}" for o in failed[:3]),
                         "see the errors.log in that folder")
    for item, outcome in zip(items, outcomes, strict=True):
        n = plan.n(item)
        frames = read_video(outcome.path, list(range(n)))
        write_lossless(plan.results / rung.method / f"{item.id}.mp4", frames, item.fps)
