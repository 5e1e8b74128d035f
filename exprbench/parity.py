"""Device parity: one benchmark item scored on two devices (or batch sizes), every number compared.

Why: a score must mean the same thing on a laptop and on a GPU cluster, so ``PROTOCOL.parity`` states
how far each number may move between devices, and this module is the one place that checks it. Two
levels, because a bare CUDA machine cannot run everything eval needs:

- ``score_frames``: the metrics ``--device`` moves (PSNR, SSIM, LPIPS per frame and per video; FID and
  FVD of the item's frames) on decoded frames. Needs only numpy, torch and torchmetrics, so it runs on
  the GPU machine of ``benchmarks/gpu_check.py`` against a CPU reference computed here and stored with
  the frames in a bundle (``save_bundle``); a metric whose network or package is absent is "not run",
  with the reason, never a pass.
- ``score_item_rows``: ``exprbench eval``'s own per-face rows of one item (``evaluate.score_item``), so
  face metrics and coverage figures, which must be exactly equal, are compared too.

``compare`` checks every key of two such score sets with ``PROTOCOL.parity.tolerance``: NaN must meet
NaN and +inf must meet +inf (a bit-identical frame's PSNR), everything else within (abs + rel * |ref|).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from exprbench.protocol import PROTOCOL, ParityRule

DEVICE_METRICS = ("psnr", "ssim", "lpips", "fid", "fvd")
PAIRED = ("psnr", "ssim", "lpips")
PER_FRAME = " per frame"  # suffix of the per-frame arrays of the paired metrics

NetworkFactory = Callable[[torch.device], object]  # device -> FeatureNetwork (stand-ins in tests)


@dataclass
class DeviceScores:
    """Every number one device gave: key -> float64 values (a scalar is a 1-element array)."""

    device: str
    batch_size: int | None
    values: dict[str, np.ndarray] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)  # key -> why it could not run here

    def to_json(self) -> dict:
        return {"device": self.device, "batch_size": self.batch_size, "not_run": self.not_run,
                "values": {k: [_json_float(x) for x in v.tolist()] for k, v in self.values.items()}}

    @classmethod
    def from_json(cls, data: Mapping) -> DeviceScores:
        values = {k: np.array([_from_json_float(x) for x in v], dtype=np.float64) for k, v in data["values"].items()}
        return cls(device=data["device"], batch_size=data["batch_size"], values=values,
                   not_run=dict(data.get("not_run", {})))


def _json_float(x: float) -> float | str | None:
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf" if x < 0 else None)


def _from_json_float(x: float | str | None) -> float:
    return float("nan") if x is None else float(x)


def _why_not(exc: Exception) -> str:
    if isinstance(exc, ImportError):
        return f"needs the Python package {exc.name or exc}, which is not installed here"
    return str(exc)


def score_frames(generated: np.ndarray, reference: np.ndarray, device: str = "cpu", batch_size: int | None = None,
                 metrics: tuple[str, ...] = DEVICE_METRICS,
                 networks: Mapping[str, NetworkFactory] | None = None) -> DeviceScores:
    """The device metrics of one item's ``(T, H, W, 3)`` uint8 frames on ``device``.

    ``networks``: per set metric, a factory of the feature network for a device (the real weights
    when omitted; a metric without them is listed in ``not_run``). FID/FVD here are the Frechet
    distance of this item's generated against reference features, i.e. what eval pools per split.
    """
    from exprbench.metrics import get_metric
    from exprbench.metrics.base import MetricUnavailable, resolve_device

    target = resolve_device(device)
    scores = DeviceScores(device=str(target), batch_size=batch_size)
    sizing = {} if batch_size is None else {"batch_size": batch_size}
    for name in metrics:
        spec = get_metric(name)
        try:
            if name in PAIRED:
                result = spec.factory(device=target, **sizing).score(generated, reference)
                scores.values[spec.key] = np.array([result.value])
                scores.values[spec.key + PER_FRAME] = result.per_frame.astype(np.float64)
                continue
            network = networks[name](target) if networks and name in networks else None
            metric = spec.factory(network=network, device=target, **sizing)
            metric.add_features("generated", metric.features(generated))
            metric.add_features("reference", metric.features(reference))
            scores.values[spec.key] = np.array([metric.compute().value])
        except (MetricUnavailable, ImportError) as exc:
            scores.not_run[spec.key] = _why_not(exc)
    return scores


def score_item_rows(bench_root: str | Path, results: str | Path, method: str, item_id: str, device: str = "cpu",
                    batch_size: int | None = None) -> DeviceScores:
    """``exprbench eval``'s per-face row of one item on ``device``: every value and coverage, keyed
    ``face<j> <key>``. FID/FVD are left to ``score_frames`` (eval pools them per split)."""
    from exprbench.benchmark.manifest import load_benchmark
    from exprbench.benchmark.results import check_result
    from exprbench.scoring.item import score_item
    from exprbench.scoring.options import EvalOptions

    bench = load_benchmark(bench_root)
    item = bench.item(item_id)
    check = check_result(Path(results), method, item)
    if not check.ok:
        from exprbench.errors import InputError

        raise InputError(check.path, f"cannot be scored: {check.problem}", "write the result video first")
    options = EvalOptions(items=[item_id], device=device, batch_size=batch_size)
    outcome = score_item(bench, item, check, options, set_available=())
    scores = DeviceScores(device=device, batch_size=batch_size)
    for row in outcome.rows:
        for key, value in row.items():
            if isinstance(value, (bool, int, float, np.floating, np.integer)) and key not in ("face", "n_faces"):
                scores.values[f"face{row['face']} {key}"] = np.array([float(value)])
    return scores


@dataclass(frozen=True)
class ParityCheck:
    """One key compared: the largest difference, what the protocol allows, and the verdict.

    ``ok`` is None when the key ran on one side only (``note`` says why), which is not a pass."""

    key: str
    difference: float
    allowed: float
    ok: bool | None
    note: str = ""


@dataclass(frozen=True)
class ParityReport:
    reference: str
    candidate: str
    checks: tuple[ParityCheck, ...]

    @property
    def failures(self) -> list[ParityCheck]:
        return [c for c in self.checks if c.ok is False]

    @property
    def not_run(self) -> list[ParityCheck]:
        return [c for c in self.checks if c.ok is None]

    @property
    def ok(self) -> bool:
        """No key outside its tolerance, and at least one key compared."""
        return not self.failures and any(c.ok for c in self.checks)

    def lines(self) -> list[str]:
        out = [f"parity {self.candidate} vs {self.reference}: "
               f"{sum(bool(c.ok) for c in self.checks)} keys within tolerance, {len(self.failures)} outside, "
               f"{len(self.not_run)} not run"]
        for c in self.checks:
            verdict = {True: "ok", False: "FAIL", None: "not run"}[c.ok]
            detail = c.note or f"max |diff| {c.difference:.3g} (allowed {c.allowed:.3g})"
            out.append(f"  {verdict:7s} {c.key}: {detail}")
        return out


def _compare_values(key: str, ref: np.ndarray, cand: np.ndarray, rule: ParityRule) -> ParityCheck:
    absolute, relative = rule.tolerance(key)
    if ref.shape != cand.shape:
        return ParityCheck(key, math.inf, absolute, False, f"{ref.size} values against {cand.size}")
    nan_ref, nan_cand = np.isnan(ref), np.isnan(cand)
    inf_ref, inf_cand = np.isinf(ref), np.isinf(cand)
    if (nan_ref != nan_cand).any() or (inf_ref != inf_cand).any() or (ref[inf_ref] != cand[inf_cand]).any():
        return ParityCheck(key, math.inf, absolute, False, "NaN or inf on one side only")
    finite = ~(nan_ref | inf_ref)
    if not finite.any():
        return ParityCheck(key, 0.0, absolute, True)
    diff = np.abs(ref[finite] - cand[finite])
    allowed = absolute + relative * np.abs(ref[finite])
    worst = int(np.argmax(diff - allowed))
    return ParityCheck(key, float(diff.max()), float(allowed[worst]), bool((diff <= allowed).all()))


def compare(reference: DeviceScores, candidate: DeviceScores, rule: ParityRule = PROTOCOL.parity) -> ParityReport:
    """Every key of either side checked with the protocol's tolerance for it."""
    checks = []
    for key in sorted(set(reference.values) | set(candidate.values) | set(reference.not_run) | set(candidate.not_run)):
        if key in reference.values and key in candidate.values:
            checks.append(_compare_values(key, reference.values[key], candidate.values[key], rule))
            continue
        side, why = next(((s.device, s.not_run.get(key, "not computed")) for s in (reference, candidate)
                          if key not in s.values), ("?", "not computed"))
        checks.append(ParityCheck(key, math.nan, math.nan, None, f"not run on {side}: {why}"))
    label = lambda s: f"{s.device} (batch {s.batch_size or 'default'})"  # noqa: E731
    return ParityReport(reference=label(reference), candidate=label(candidate), checks=tuple(checks))


# ---- bundles: an item's frames plus the CPU reference, for a machine without our video stack ----------
def lagged_pair(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(generated, reference) of a method that lags the ground truth by one frame: a real, imperfect
    result that needs no second video (frame i against frame i + 1)."""
    if len(frames) < 2:
        raise ValueError("a lagged pair needs at least 2 frames")
    return frames[1:], frames[:-1]


def save_bundle(path: str | Path, item_id: str, frames: np.ndarray, reference: DeviceScores) -> Path:
    """``frames`` (the item's ground truth, uint8) and the reference scores of their lagged pair."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"item_id": item_id, "protocol": PROTOCOL.version, "pair": "lagged_pair", "reference": reference.to_json()}
    with open(path, "wb") as fh:
        np.savez_compressed(fh, frames=np.ascontiguousarray(frames, dtype=np.uint8), meta=np.array(json.dumps(meta)))
    return path


def load_bundle(path: str | Path) -> tuple[str, np.ndarray, DeviceScores]:
    """(item id, frames, reference scores) of a bundle; refuses one from another protocol version."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        frames = data["frames"]
    if meta["protocol"] != PROTOCOL.version:
        raise ValueError(f"{path}: parity bundle of protocol {meta['protocol']}, this toolkit is {PROTOCOL.version}; "
                         "rebuild it with 'make gpu-wheels'")
    return meta["item_id"], frames, DeviceScores.from_json(meta["reference"])
