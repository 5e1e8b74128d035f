"""The end-to-end demo on the embedded real sample (``make demo`` / ``exprbench demo``).

It runs every part of the toolkit the way a user would, in order, saying what it does as it goes:
curate the sample Multi-Expr corpus, prepare the mini ExprBench, generate the CPU baselines ``static``
and ``warp``, evaluate both (static first: its scores are stored as the benchmark's ranking
anchors), and publish the leaderboard. Each step keeps its output under ``out`` so a
user can open and rerun any of them; generation resumes and curation resumes if interrupted.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEMO_METHODS = ("static", "warp")


@dataclass
class DemoReport:
    out: Path
    steps: list[tuple[str, float, str]] = field(default_factory=list)  # (step, seconds, where)

    @property
    def seconds(self) -> float:
        return sum(s for _, s, _ in self.steps)


def run_demo(out: str | Path, publish: str | Path | None = None, say: Callable[[str], None] = print,
             workers: int = 1, validate: bool = False) -> DemoReport:
    """Run the whole pipeline on the sample; ``publish`` also copies the leaderboard there; ``validate``
    also runs ``exprbench validate`` on the mini benchmark (its reduced sample set, about 10 CPU-minutes)
    so the leaderboard's "Can these numbers be trusted?" section has a report."""
    from baselines import generate_items, get_adapter
    from exprbench.anchors import ANCHOR_METHOD, anchors_name, write_anchors
    from exprbench.benchmark import load_benchmark
    from exprbench.benchmark.prepare import prepare_sample
    from exprbench.evaluate import EvalOptions, evaluate
    from exprbench.leaderboard import build_leaderboard
    from multiexpr.build import build
    from multiexpr.config import EngineConfig
    from multiexpr.sample import compose_sample

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = DemoReport(out=out)

    def step(name: str, where: Path, fn: Callable[[], str]) -> None:
        say(f"[demo] {name} ...")
        start = time.perf_counter()
        detail = fn()
        seconds = time.perf_counter() - start
        report.steps.append((name, seconds, str(where)))
        say(f"[demo] {name}: {detail} ({seconds:.0f} s) -> {where}")

    def curate() -> str:
        sources = compose_sample(out / "multiexpr_sources")
        result = build(sources, out / "multiexpr", engine=EngineConfig(workers=workers))
        return (f"{result.stats['accepted']} of {result.stats['candidates']} candidate clips accepted "
                f"from {result.stats['sources']} sources (rejects and reasons in rejects.parquet)")

    step("curate the sample Multi-Expr corpus", out / "multiexpr", curate)

    def prepare() -> str:
        bench = prepare_sample(out / "bench")
        return f"{len(bench.items)} items"

    step("prepare the mini ExprBench", out / "bench", prepare)
    bench = load_benchmark(out / "bench")
    results = out / "results"
    for method in DEMO_METHODS:
        def generate(method: str = method) -> str:
            outcomes = generate_items(get_adapter(method), bench, bench.items, results)
            failed = [o for o in outcomes if getattr(o, "error", None)]
            if failed:
                raise RuntimeError(f"{method}: {len(failed)} item(s) failed to generate")
            return f"{len(outcomes)} videos"

        step(f"generate with {method}", results / method, generate)
    runs = []
    for method in DEMO_METHODS:
        target = out / "eval" / method

        def score(method: str = method, target: Path = target) -> str:
            summary = evaluate(bench.root, results, method, target, EvalOptions(workers=workers))
            return ", ".join(f"{split}/{mode} {block['items']} items"
                             for split, modes in summary["splits"].items() for mode, block in modes.items())

        step(f"evaluate {method}", target, score)
        runs.append(target)
        if method == ANCHOR_METHOD:  # scored first: its values become the benchmark's ranking anchors
            step("store the benchmark's ranking anchors", bench.root / anchors_name(),
                 lambda target=target: f"from {write_anchors(bench, target).name}")

    validation = None
    if validate:
        from exprbench_app.validate import SAMPLE_FRAMES, SAMPLE_ITEMS
        from exprbench_app.validate import validate as run_validation

        def check_metrics() -> str:
            report = run_validation(bench.root, out / "validation", items=list(SAMPLE_ITEMS), frames=SAMPLE_FRAMES,
                                    workers=workers)
            failed = [s for s in report.scores if not s.passed]
            return f"{len(report.scores) - len(failed)} of {len(report.scores)} metric/ladder checks pass"

        step("validate the metrics on controlled ladders", out / "validation", check_metrics)
        validation = out / "validation" / "validation.csv"

    def publish_board() -> str:
        board = build_leaderboard(runs, out / "leaderboard", run_by="make demo", validation=validation)
        if publish is not None:
            target = Path(publish)
            target.mkdir(parents=True, exist_ok=True)
            for item in (out / "leaderboard").iterdir():
                if item.name.startswith(".exprbench"):  # the builder's bookkeeping (exprbench.outdir), not content
                    continue
                dest = target / item.name
                if item.is_dir():
                    shutil.copytree(item, dest, dirs_exist_ok=True)
                else:
                    shutil.copyfile(item, dest)
        return ", ".join(f"{name} ({rows} rows)" for name, rows in sorted(board.rows.items())) + ", index.html"

    step("publish the leaderboard", Path(publish) if publish else out / "leaderboard", publish_board)
    return report
