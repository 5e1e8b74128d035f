"""``exprbench eval``: score one method's results on a benchmark, per item and per face.

Cost model (why it is shaped like this): every generated video is decoded once and every model runs
once per frame on it; driving and ground-truth face analyses are cached by content hash
(``exprbench.faces``), and ground-truth FID/FVD features by content hash here, so scoring a second
method costs only its own videos plus re-reading ground-truth pixels for the paired metrics.

Multi-character items: the portrait's faces (left to right, as in the manifest) are associated with
the generated video's tracks by position and IoU, and with the driving faces (one video per face, or
the tracks of one multi-person video, left to right); each metric is computed per face in that face's
track or region, reported per face, and a face that is not found gets NaN and lowers the coverage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from exprbench import __version__, eval_resume
from exprbench.anchors import ANCHOR_METHOD, anchors_name, attach, benchmark_sha256, load_anchors
from exprbench.benchmark.manifest import Benchmark, Item, load_benchmark
from exprbench.benchmark.results import ResultCheck, check_result, validate_results
from exprbench.errors import ExprBenchError, InputError
from exprbench.files import atomic_path, atomic_write
from exprbench.protocol import PROTOCOL, protocol_dict

log = logging.getLogger(__name__)

FACE_METRICS = ("lmd", "aed", "apd", "mae", "csim", "csim_gap", "motion", "aed_abs", "apd_abs", "mae_abs")
_FRAME_FIELDS = {"landmarks", "blendshapes", "pose", "gaze"}  # per-frame metrics reading one FaceTracks field
PAIRED_METRICS = ("psnr", "ssim", "lpips")
SET_METRICS = ("fid", "fvd")


@dataclass
class EvalOptions:
    """Everything that changes what ``evaluate`` computes (recorded in config.json)."""

    split: str | None = None
    items: list[str] | None = None
    workers: int = 1
    keep_going: bool = False
    allow_short: bool = False
    require: tuple[str, ...] = ()
    metrics: tuple[str, ...] | None = None  # None: every metric of the protocol
    device: str = "auto"  # pixel and feature metrics (auto: CUDA when present); face analysis stays on the CPU
    batch_size: int | None = None  # frames (FVD: windows) per device batch; None: each metric's default


@dataclass
class ItemOutcome:
    """What scoring one item produced: rows (one per face), set-metric features, timings, or an error."""

    item_id: str
    rows: list[dict] = field(default_factory=list)
    features: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # metric -> side -> (n, d)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    decode_errors: int = 0  # decoder messages while decoding the generated video (exprbench.decode_log)


# ---- per-process model state -------------------------------------------------------------------------
_PAIRED: dict[str, object] = {}
_SET: dict[str, object] = {}


def metric_instance_key(name: str, device: str = "auto", batch_size: int | None = None) -> str:
    """The per-process cache key of a metric instance (tests put stand-in networks under it)."""
    return f"{name}|{device}|{batch_size}"


def _device_kwargs(device: str, batch_size: int | None) -> dict:
    return {"device": device} if batch_size is None else {"device": device, "batch_size": batch_size}


def _paired_metric(name: str, device: str = "auto", batch_size: int | None = None):  # noqa: ANN202
    """One PairedVideoMetric instance per process and device, so network weights (LPIPS) load once."""
    from exprbench.metrics import get_metric

    key = metric_instance_key(name, device, batch_size)
    if key not in _PAIRED:
        _PAIRED[key] = get_metric(name).factory(**_device_kwargs(device, batch_size))
    return _PAIRED[key]


def _set_metric(name: str, device: str = "auto", batch_size: int | None = None):  # noqa: ANN202
    """One SetMetric per process and device; raises MetricUnavailable without weights."""
    from exprbench.metrics import get_metric

    key = metric_instance_key(name, device, batch_size)
    if key not in _SET:
        _SET[key] = get_metric(name).factory(**_device_kwargs(device, batch_size))
    return _SET[key]


# ---- feature cache for reference videos -------------------------------------------------------------
def _feature_cache_path(path: Path, metric: str, network: str, region: str) -> Path:
    from exprbench.assets import home
    from exprbench.faces.cache import content_hash

    key = hashlib.sha256(f"{content_hash(path)}|{metric}|{network}|{region}|{PROTOCOL.version}".encode()).hexdigest()
    return home() / "cache" / "features" / f"{key[:32]}.npy"


def _cached_features(path: Path, metric, region: str, compute) -> np.ndarray:  # noqa: ANN001
    target = _feature_cache_path(path, metric.key, metric.network.name, region)
    if target.is_file():
        return np.load(target, allow_pickle=False)
    feats = compute()
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        np.save(fh, feats)
    return feats


# ---- helpers -----------------------------------------------------------------------------------------
def _main_track(tracks) -> int | None:  # noqa: ANN001 - FaceTracks
    """The face a single-face video shows: the track seen most often (None when no face is seen)."""
    if not tracks.track_ids:
        return None
    return int(np.argmax(tracks.coverage()))


def _column(array: np.ndarray, track: int | None, n: int) -> np.ndarray:
    """Track ``track``'s per-frame values, NaN-filled when unmatched; first ``n`` frames."""
    if track is None:
        return np.full((n, *array.shape[2:]), np.nan, dtype=np.float32)
    values = array[:n, track]
    if len(values) < n:
        pad = np.full((n - len(values), *array.shape[2:]), np.nan, dtype=np.float32)
        values = np.concatenate([values, pad])
    return values


def _face_regions(boxes: np.ndarray, size: tuple[int, int]) -> tuple[list, np.ndarray]:
    """Per-frame protocol regions from a track's boxes; frames without a box are marked invalid and
    borrow the nearest valid region so crops stay well-defined."""
    from exprbench.metrics import face_region

    valid = np.isfinite(boxes).all(axis=1)
    if not valid.any():
        return [], valid
    idx = np.flatnonzero(valid)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(boxes))), 0, len(idx) - 1)]
    return [face_region(boxes[i], size) for i in nearest], valid


@dataclass
class _Faces:
    """The faces of one item after association: per manifest face, the generated/driving/GT tracks."""

    generated: object
    gen_track: list[int | None]
    driving: list[tuple[object, int | None]]
    portrait_identity: list[np.ndarray]


def _first_frame_boxes(path: Path, limit: int) -> np.ndarray:
    """Faces in a video's first frame, left to right (the still-image search finds small faces)."""
    from exprbench.faces import analyze_image
    from exprbench.video import read_video

    tracks = analyze_image(read_video(path, [0])[0], num_faces=max(8, limit), identity=False)
    boxes = tracks.boxes[0] if tracks.n_tracks else np.zeros((0, 4))
    return boxes[np.argsort((boxes[:, 0] + boxes[:, 2]) / 2)][:limit] if len(boxes) else boxes


def _analyse_item(bench: Benchmark, item: Item, gen_frames: np.ndarray, ref_identity: bool = False) -> _Faces:
    """Find and pair the faces of one item (rules in ``PROTOCOL.faces``).

    One character: whole-frame analysis, the main track of each video. Several characters: region
    mode (a crop around each expected face), because MediaPipe's full-frame detector misses faces
    smaller than about a fifth of the frame; every video of the item is then analysed in region mode,
    so head poses are compared like with like. ``ref_identity``: embed the reference faces too (the
    ground truth's own CSIM, for csim_gap in self mode).
    """
    from exprbench.faces import (
        analyze_frames,
        analyze_image,
        analyze_regions,
        analyze_video,
        analyze_video_regions,
        associate,
    )
    from exprbench.video import load_image

    n, k = item.frames, PROTOCOL.faces.identity_every
    rk = k if ref_identity else 0
    faces = np.asarray(item.faces, dtype=np.float64)
    portrait = load_image(bench.path(item.portrait))
    size = (portrait.shape[1], portrait.shape[0])
    portrait_tracks = analyze_image(portrait, num_faces=max(8, item.n_faces + 2))
    port_assoc = associate(faces, portrait_tracks, reference_size=size)
    identity = [portrait_tracks.identity[0, t] if t is not None else np.full(128, np.nan, np.float32)
                for t in (port_assoc.mapping[j] for j in range(item.n_faces))]
    driving: list[tuple[object, int | None]] = []
    if item.n_faces == 1:
        generated = analyze_frames(gen_frames, fps=item.fps, num_faces=4, identity_every=k)
        gen_track: list[int | None] = [_main_track(generated)]
        rel = item.driving[0] if item.driving is not None else item.driving_multi
        tracks = analyze_video(bench.path(rel), num_faces=4, identity_every=rk, max_frames=n)
        driving.append((tracks, _main_track(tracks)))
    else:
        scale = np.array([gen_frames.shape[2] / size[0], gen_frames.shape[1] / size[1]] * 2)
        generated = analyze_regions(gen_frames, item.fps, faces * scale, identity_every=k)
        gen_track = list(range(item.n_faces))
        if item.driving is not None:
            for rel in item.driving:
                box = _first_frame_boxes(bench.path(rel), 8)
                if len(box) == 0:
                    driving.append((None, None))
                    continue
                main = box[np.argmax((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]))][None]
                driving.append((analyze_video_regions(bench.path(rel), main, max_frames=n, identity_every=rk), 0))
        else:
            path = bench.path(item.driving_multi)
            # self: the portrait is the first frame, so its boxes are the driving faces; cross: left to right
            boxes = faces if item.mode == "self" else _first_frame_boxes(path, item.n_faces)
            tracks = analyze_video_regions(path, boxes, max_frames=n, identity_every=rk) if len(boxes) else None
            driving = [(tracks, j if tracks is not None and j < len(boxes) else None) for j in range(item.n_faces)]
    return _Faces(generated=generated, gen_track=gen_track, driving=driving, portrait_identity=identity)


def _field(tracks, name: str, track: int | None, n: int) -> np.ndarray:  # noqa: ANN001 - FaceTracks
    """One FaceTracks field of one track; gaze is the combined (both-eye) vector."""
    values = _column(getattr(tracks, name), track, n)
    return values[:, 2] if name == "gaze" else values


def _covered(measured: np.ndarray, reference: np.ndarray) -> float:
    """Frame coverage (``PROTOCOL.coverage``): of the frames where the reference face has a value, the
    fraction where the metric has one too; 0 when the reference never has a value."""
    return float((measured & reference).sum() / reference.sum()) if reference.any() else 0.0


def _valid(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values.reshape(len(values), -1)).all(axis=1)


def _face_metric(name: str, item: Item, faces: _Faces, j: int, n: int) -> tuple[float, float]:
    """(value, coverage) of metric ``name`` for face ``j``: the per-face number and its frame coverage;
    NaN and 0 when there is nothing to compare with."""
    from exprbench.metrics import get_metric
    from exprbench.metrics.face_reduce import reduce_frames
    from exprbench.protocol import metric_protocol

    spec = get_metric(name)
    gen, t = faces.generated, faces.gen_track[j]
    ref, rt = faces.driving[j]
    gen_present = _column(gen.present(), t, n).astype(bool) if t is not None else np.zeros(n, bool)
    if name == "csim":  # the portrait always has its embedding: coverage is where the generated face is
        per_frame = spec.factory(faces.portrait_identity[j], _column(gen.identity, t, n))
        return reduce_frames(per_frame).value, float(gen_present.mean()) if n else 0.0
    if ref is None or rt is None:  # no driving / ground-truth face to compare with
        return math.nan, 0.0
    ref_present = _column(ref.present(), rt, n).astype(bool)
    if name == "csim_gap":
        value = spec.factory(faces.portrait_identity[j], _column(gen.identity, t, n), _column(ref.identity, rt, n))
        return value, _covered(gen_present, ref_present)
    if name == "motion":
        value = spec.factory(_field(gen, "blendshapes", t, n), _field(ref, "blendshapes", rt, n),
                             _field(gen, "pose", t, n), _field(ref, "pose", rt, n))
        return value, _covered(gen_present, ref_present)
    assert spec.consumes in _FRAME_FIELDS, f"{name}: no eval dispatch for {spec.consumes!r}"
    relative = item.mode in metric_protocol(name).relative_in
    reference = _field(ref, spec.consumes, rt, n)
    per_frame = spec.factory(_field(gen, spec.consumes, t, n), reference, relative=relative)
    return reduce_frames(per_frame).value, _covered(np.isfinite(per_frame), _valid(reference))


def _selected(options: EvalOptions, names: tuple[str, ...], mode: str) -> list[str]:
    from exprbench.metrics import get_metric

    wanted = options.metrics
    return [m for m in names if (wanted is None or m in wanted) and mode in get_metric(m).modes]


def _face_row(item: Item, faces: _Faces, j: int, n: int, options: EvalOptions) -> dict:
    """The face-analysis metrics of face ``j``: value and frame coverage of each (``K``, ``K_coverage``)."""
    from exprbench.metrics import get_metric

    track = faces.gen_track[j]
    present = faces.generated.present()[:n, track] if track is not None else np.zeros(n, bool)
    row = {"item_id": item.id, "split": item.split, "mode": item.mode, "face": j, "n_faces": item.n_faces,
           "frames": n, "matched": bool(present.any()), "coverage": float(present.mean()) if n else 0.0}
    for name in _selected(options, FACE_METRICS, item.mode):
        key = get_metric(name).key
        row[key], row[f"{key}_coverage"] = _face_metric(name, item, faces, j, n)
    return row


def _ground_truth_views(item: Item, faces: _Faces, j: int, gt: np.ndarray, n: int):  # noqa: ANN202
    """What face ``j``'s pixel metrics compare: whole frames for one character, else the face region
    that the ground-truth track occupies in each frame (None when the ground truth has no such face)."""
    if item.n_faces == 1:
        return None, None
    tracks, t = faces.driving[j]
    if tracks is None or t is None:
        return [], None
    return _face_regions(_column(tracks.boxes, t, n), gt.shape[1:3])


def score_item(bench: Benchmark, item: Item, check: ResultCheck, options: EvalOptions,
               set_available: tuple[str, ...]) -> ItemOutcome:
    """Score one item: analyse faces once, every metric per face; videos stream in chunks."""
    from exprbench.eval_paired import score_paired
    from exprbench.video import VideoFrames

    outcome = ItemOutcome(item_id=item.id)
    n = min(item.frames, check.info.n_frames)
    start = time.perf_counter()
    gen_frames = VideoFrames(check.info, list(range(n)))  # decoded lazily, chunk by chunk, per pass
    outcome.timings["decode"] = time.perf_counter() - start

    start = time.perf_counter()
    faces = _analyse_item(bench, item, gen_frames, ref_identity="csim_gap" in _selected(options, FACE_METRICS, item.mode))
    outcome.timings["faces"] = time.perf_counter() - start
    outcome.decode_errors = gen_frames.report.errors  # the first pass decodes it alone (exprbench.decode_log)

    start = time.perf_counter()
    rows = [_face_row(item, faces, j, n, options) for j in range(item.n_faces)]
    if item.mode == "self":
        score_paired(bench, item, faces, rows, gen_frames, options, set_available, outcome)
    outcome.timings["metrics"] = time.perf_counter() - start
    outcome.rows = rows
    return outcome


def _score_safely(args: tuple) -> ItemOutcome:
    bench, item, check, options, set_available, partial, key = args
    try:
        outcome = score_item(bench, item, check, options, set_available)
    except ExprBenchError as exc:
        if not options.keep_going:
            raise
        return ItemOutcome(item_id=item.id, error=str(exc))
    except Exception as exc:  # a bug or a library failure on one item must not lose the others
        if not options.keep_going:
            raise
        log.exception("%s: scoring failed", item.id)
        return ItemOutcome(item_id=item.id, error=f"{type(exc).__name__}: {exc}")
    eval_resume.save(partial, key, outcome)  # kept on disk at once: a killed run resumes from here
    return outcome


def _set_availability(options: EvalOptions) -> tuple[tuple[str, ...], dict[str, str]]:
    from exprbench.metrics import MetricUnavailable, get_metric

    available, unavailable = [], {}
    for name in SET_METRICS:
        if options.metrics is not None and name not in options.metrics:
            continue
        try:
            _set_metric(name, options.device, options.batch_size)
            available.append(name)
        except MetricUnavailable as exc:
            if name in options.require:
                raise
            unavailable[get_metric(name).key] = str(exc)
            log.warning("%s", exc)
    return tuple(available), unavailable


def _metric_block(group: pd.DataFrame, key: str) -> dict:
    """A face or paired metric over a split's faces: the mean of the per-face values (NaN skipped), the
    frame-weighted coverage and how many faces fall below the protocol's coverage floor."""
    values = group[key].to_numpy(dtype=np.float64)
    finite = values[~np.isnan(values)]
    cover = group[f"{key}_coverage"].to_numpy(dtype=np.float64)
    frames = group["frames"].to_numpy(dtype=np.float64)
    return {"value": float(finite.mean()) if finite.size else None, "n": int(finite.size),
            "coverage": float((cover * frames).sum() / frames.sum()) if frames.sum() else 0.0,
            "faces_lost": int((cover < PROTOCOL.coverage.min_coverage).sum())}


def _summarise(frame: pd.DataFrame, set_scores: dict, unavailable: dict, errors: dict, n_items: dict,
               in_benchmark: dict) -> dict:
    from exprbench.metrics import all_metrics

    summary: dict = {"protocol": PROTOCOL.version, "splits": {}, "unavailable": unavailable, "errors": errors}
    for (split, mode), group in frame.groupby(["split", "mode"], sort=True) if len(frame) else []:
        block = {"items": int(group["item_id"].nunique()), "faces": int(len(group)),
                 "items_requested": n_items.get((split, mode), 0),
                 "items_in_benchmark": in_benchmark.get((split, mode), 0),
                 "coverage": float(group["coverage"].mean()), "faces_matched": float(group["matched"].mean()),
                 "metrics": {}}
        for key in (m.key for m in all_metrics() if mode in m.modes):
            if key in group:
                block["metrics"][key] = _metric_block(group, key)
        for key, score in set_scores.get(split, {}).items():
            if mode == "self":
                block["metrics"][key] = score
        summary["splits"].setdefault(split, {})[mode] = block
    return summary


def _json_safe(value):  # noqa: ANN001, ANN202
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else None)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _config(bench: Benchmark, results: Path, method: str, options: EvalOptions) -> dict:
    import importlib.metadata as md

    from exprbench.assets import all_assets, expected_digest
    from exprbench.metrics.base import resolve_device

    packages = {}
    for name in ("torch", "mediapipe", "dlib-bin", "lpips", "torchmetrics", "pytorch-fid", "numpy", "av", "decord"):
        try:
            packages[name] = md.version(name)
        except md.PackageNotFoundError:
            packages[name] = None
    return {
        "exprbench": __version__, "method": method, "benchmark": bench.name, "bench_root": str(bench.root),
        "results": str(results), "options": {k: (list(v) if isinstance(v, tuple) else v)
                                             for k, v in options.__dict__.items()},
        "protocol": protocol_dict(), "packages": packages,
        "assets": {a.name: expected_digest(a) for a in all_assets()},
        "python": platform.python_version(), "platform": platform.platform(),
        "device": str(resolve_device(options.device)),
    }


def evaluate(bench_root: str | Path, results: str | Path, method: str, out: str | Path,
             options: EvalOptions | None = None, progress: bool = False, warn_unranked: bool = True) -> dict:
    """Score ``results/<method>/<item>.mp4`` on the benchmark; write per_item.csv, summary.json, config.json.

    Returns the summary. Raises a one-line error if results are missing or malformed (unless
    ``keep_going``), or if a metric named in ``require`` is unavailable. ``warn_unranked=False``: no
    warning that a benchmark without anchors gives unranked runs (for scores that are never ranked,
    e.g. the rungs of ``exprbench validate``).
    """
    from exprbench.metrics import get_metric
    from exprbench.metrics.base import resolve_device

    options = options or EvalOptions()
    resolve_device(options.device)  # a CUDA request without CUDA fails here, before any work
    bench = load_benchmark(bench_root)
    results, out = Path(results), Path(out)
    items = bench.select(options.split, options.items)
    if not items:
        raise InputError(bench.root, "has no items for that selection")
    if options.keep_going:
        checks = [check_result(results, method, item, options.allow_short, bench) for item in items]
    else:
        checks = validate_results(bench, results, method, items, options.allow_short)
    set_available, unavailable = _set_availability(options)
    errors = {c.item.id: c.problem for c in checks if not c.ok}
    partial = eval_resume.partial_dir(out)
    keys = {c.item.id: eval_resume.item_key(bench, c.item, c, options, set_available) for c in checks if c.ok}
    done = {i: o for i, k in keys.items() if (o := eval_resume.load(partial, k)) is not None}
    jobs = [(bench, c.item, c, options, set_available, partial, keys[c.item.id])
            for c in checks if c.ok and c.item.id not in done]
    if done:
        log.info("resuming: %d of %d items already scored in %s", len(done), len(keys), partial)

    from tqdm import tqdm

    from exprbench.workers import stop_workers, worker_pool

    scored: list[ItemOutcome] = []
    bar = tqdm(total=len(keys), initial=len(done), desc=f"eval {method}", unit="item", disable=not progress)
    frames_of = {c.item.id: c.item.frames for c in checks}
    started, frames_done = time.perf_counter(), 0

    def advance(outcome: ItemOutcome) -> None:
        nonlocal frames_done
        frames_done += frames_of.get(outcome.item_id, 0)
        bar.set_postfix_str(f"{frames_done / max(time.perf_counter() - started, 1e-9):.1f} frames/s", refresh=False)
        bar.update()

    if options.workers > 1 and len(jobs) > 1:
        pool = worker_pool(options.workers)
        try:
            for outcome in pool.map(_score_safely, jobs):
                scored.append(outcome)
                advance(outcome)
        except BaseException:  # Ctrl-C or a failed item: stop now; finished items are in OUT/.partial
            stop_workers(pool)
            raise
        pool.shutdown()
    else:
        for job in jobs:
            scored.append(_score_safely(job))
            advance(scored[-1])
    bar.close()
    by_id = {**done, **{o.item_id: o for o in scored}}
    outcomes = [by_id[c.item.id] for c in checks if c.item.id in by_id]  # item order, however they were scored

    errors.update({o.item_id: o.error for o in outcomes if o.error})
    rows = [r for o in outcomes for r in o.rows]
    frame = pd.DataFrame(rows).sort_values(["split", "mode", "item_id", "face"]) if rows else pd.DataFrame(
        columns=["item_id", "split", "mode", "face", "n_faces", "frames", "matched", "coverage"])

    set_scores: dict[str, dict] = {}
    for name in set_available:
        metric = _set_metric(name, options.device, options.batch_size)
        for split in sorted({i.split for i in items}):
            metric.reset()
            split_ids = {i.id for i in items if i.split == split}
            for o in outcomes:
                if o.item_id in split_ids and name in o.features:
                    for side in ("generated", "reference"):
                        for feats in o.features[name][side]:
                            metric.add_features(side, feats)
            if metric.videos["generated"]:
                score = metric.compute()
                set_scores.setdefault(split, {})[get_metric(name).key] = {
                    "value": score.value, "network": score.network, "n_generated": score.n_generated,
                    "n_reference": score.n_reference, "warnings": list(score.warnings)}

    n_items = Counter((item.split, item.mode) for item in items)
    in_benchmark = Counter((item.split, item.mode) for item in bench.items)
    summary = _summarise(frame, set_scores, unavailable, errors, n_items, in_benchmark)
    summary.update({"method": method, "benchmark": bench.name, "benchmark_sha256": benchmark_sha256(bench),
                    "timings": {k: float(sum(o.timings.get(k, 0.0) for o in outcomes))
                                for k in ("decode", "faces", "metrics")}})
    damaged = {o.item_id: o.decode_errors for o in outcomes if o.decode_errors}
    summary["decode_errors"] = {"total": int(sum(damaged.values())), "items": damaged}
    if damaged:
        log.warning("%d result video(s) have decoder errors (damaged files, concealed by the decoder; their scores "
                    "are unreliable): %s", len(damaged), ", ".join(f"{k} ({v})" for k, v in damaged.items()))
    frame = attach(frame, summary, _benchmark_anchors(bench, warn=warn_unranked and method != ANCHOR_METHOD))
    out.mkdir(parents=True, exist_ok=True)
    write_tables(out, frame, summary)
    atomic_write(out / "config.json", json.dumps(_json_safe(_config(bench, results, method, options)), indent=1,
                                                 sort_keys=True) + "\n")
    version = _method_version(results, method, items)
    if version is not None:  # for the leaderboard; a run_by the user wrote into run.json is kept
        record_path = out / "run.json"
        record = json.loads(record_path.read_text()) if record_path.is_file() else {}
        record["method_version"] = version
        atomic_write(record_path, json.dumps(record, indent=1, sort_keys=True) + "\n")
    eval_resume.finish(out)
    return summary


def _benchmark_anchors(bench: Benchmark, warn: bool) -> dict | None:
    """The benchmark's anchors; without them (or with stale ones) the run is scored but cannot be ranked.
    ``warn``: say so when there are none (not for the static eval the anchors are made from)."""
    try:
        anchors = load_anchors(bench)
    except InputError as exc:
        log.warning("%s; this run will be listed unranked", exc)
        return None
    if anchors is None and warn:
        log.warning("%s has no %s: the leaderboard will list this run unranked (run 'exprbench anchors --bench "
                    "%s' once)", bench.root, anchors_name(), bench.root)
    return anchors


def write_tables(out: Path, frame: pd.DataFrame, summary: dict) -> None:
    """per_item.csv and summary.json, each written atomically (6 significant digits in the CSV)."""
    atomic_write(out / "per_item.csv", frame.to_csv(index=False, float_format="%.6g"))
    atomic_write(out / "summary.json", json.dumps(_json_safe(summary), indent=1, sort_keys=True) + "\n")


def _method_version(results: Path, method: str, items: list[Item]) -> str | None:
    """The adapter version recorded by ``exprbench generate`` in the results' sidecars, if they agree."""
    versions = set()
    for item in items:
        sidecar = results / method / f"{item.id}.json"
        if sidecar.is_file():
            try:
                versions.add(json.loads(sidecar.read_text()).get("adapter_version"))
            except json.JSONDecodeError:
                return None
    return versions.pop() if len(versions) == 1 and None not in versions else None

