"""``exprbench anchors`` without an eval to read: generate the static baseline, evaluate it, store the anchors.

Why here and not in ``exprbench.anchors``: generating needs ``baselines``, which the ``exprbench`` core
must not import; reading, writing and attaching anchors (what eval and the leaderboard use) stay there.
"""

from __future__ import annotations

from pathlib import Path

from baselines import generate_items, get_adapter
from exprbench.anchors import ANCHOR_METHOD, write_anchors
from exprbench.benchmark.manifest import load_benchmark
from exprbench.errors import InputError
from exprbench.evaluate import EvalOptions, evaluate


def compute_anchors(bench_root: str | Path, work: str | Path, workers: int = 1, device: str = "auto") -> Path:
    """Generate the static baseline on every item, evaluate it into ``work/eval/static`` and write the
    anchors (``exprbench anchors``). Returns the anchors file."""
    bench = load_benchmark(bench_root)
    work = Path(work)
    outcomes = generate_items(get_adapter(ANCHOR_METHOD), bench, bench.items, work / "results")
    failed = [o for o in outcomes if getattr(o, "error", None)]
    if failed:
        raise InputError(bench.root, f"the static baseline failed on {len(failed)} item(s)",
                         "fix the benchmark media (see the errors above)")
    target = work / "eval" / ANCHOR_METHOD
    evaluate(bench.root, work / "results", ANCHOR_METHOD, target, EvalOptions(workers=workers, device=device))
    return write_anchors(bench, target)
