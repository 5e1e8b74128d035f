"""Writing the validation verdict: validation.csv (read by the leaderboard), validation.md, validation.png."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from exprbench.files import atomic_path
from exprbench_app.validate.ladders import LADDERS
from exprbench_app.validate.meta import PASS_SPEARMAN

COLUMNS = ["metric", "ladder", "mode", "rungs", "spearman", "pairs_correct", "pairs_total", "passed",
           "direction", "pairs_missing", "units", "rung_labels", "rung_means", "rung_coverage"]


def _atomic(path: Path, write) -> None:  # noqa: ANN001
    """``write(tmp)`` into a temp path renamed onto ``path`` (``exprbench.files.atomic_path``)."""
    with atomic_path(path) as tmp:
        write(tmp)


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    return f"{value:.3f}"


def write_csv(report, out: Path) -> Path:  # noqa: ANN001 - ValidationReport
    frame = report.frame().reindex(columns=COLUMNS)
    target = out / "validation.csv"
    _atomic(target, lambda p: frame.to_csv(p, index=False, float_format="%.6g"))
    return target


def markdown(report) -> str:  # noqa: ANN001 - ValidationReport
    """The report: setup, every metric/ladder row, failures listed by name, the identity check."""
    why = {(ld.name, ld.mode): ld.why for ld in LADDERS}
    frames = f"first {report.frames} frames of each item" if report.frames else "every frame"
    lines = ["# ExprBench metric validation", "",
             f"Benchmark `{report.bench}`, {len(report.items)} items ({', '.join(report.items)}), {frames}; "
             f"{len(report.rung_methods)} rung outputs scored with `exprbench eval` (building them took "
             f"{report.seconds.get('build', 0.0):.0f} s and scoring {report.seconds.get('eval', 0.0):.0f} s; "
             f"this run {report.seconds.get('total', 0.0):.0f} s, {report.seconds.get('reused', 0.0):.0f} "
             f"rungs reused).", "",
             f"Each ladder's rungs go from best (first) to worst. `spearman` is the direction-aware rank "
             f"correlation between rung order and the rung's mean value (1 = perfect); `pairs` counts adjacent "
             f"rungs ordered strictly right, per item and face. A metric passes a ladder at spearman >= "
             f"{PASS_SPEARMAN}.", "",
             "| metric | ladder | mode | rungs | spearman | pairs | passed | rung means (best first) |",
             "|---|---|---|---|---|---|---|---|"]
    for s in report.scores:
        means = ", ".join("NaN" if math.isnan(v) else f"{v:.4g}" for v in s.rung_means)
        lines.append(f"| `{s.metric}` | {s.ladder} | {s.mode} | {s.rungs} | {_fmt(s.spearman)} | "
                     f"{s.pairs_correct}/{s.pairs_total} | {'yes' if s.passed else '**NO**'} | {means} |")
    lines += ["", "## Failing metric / ladder pairs", ""]
    if report.failures:
        lines += [f"- `{s.metric}` on {s.ladder} ({s.mode}): spearman {_fmt(s.spearman)}, "
                  f"{s.pairs_correct}/{s.pairs_total} pairs; rung means "
                  + ", ".join(f"{lab} {'NaN' if math.isnan(v) else f'{v:.4g}'}"
                              for lab, v in zip(s.rung_labels, s.rung_means, strict=True))
                  for s in report.failures]
    else:
        lines.append("None: every expected metric orders every ladder it was checked on.")
    if report.identity is not None:
        ident = report.identity
        lines += ["", "## Identity: the driving video as the output (perfect motion, wrong person)", "",
                  f"CSIM of the wrong person {_fmt(ident.wrong_person)} (right person, warp strength 1: "
                  f"{_fmt(ident.right_person)}); the different-person band is {ident.band[0]:.2f}-"
                  f"{ident.band[1]:.2f} (protocol csim worst {ident.band[1]:.2f}): "
                  + ("**in the band or below**: CSIM calls it another person." if ident.in_band
                     else "**ABOVE the band**: CSIM does not call it another person.")
                  + " Faces at or below {:.2f}: {} of {} measured ({} without a value).".format(
                      ident.band[1], *ident.faces_in_band), ""]
        lines += [f"- {unit}: {_fmt(v)}" for unit, v in ident.per_unit.items()]
    if report.missing:
        lines += ["", "## Expected but not checked (eval wrote no value)", ""]
        lines += [f"- {entry}" for entry in report.missing]
    if report.unavailable:
        lines += ["", "## Unavailable here", ""]
        lines += [f"- `{k}`: {v}" for k, v in sorted(report.unavailable.items())]
    lines += ["", "## Ladders", ""]
    lines += [f"- **{name}** ({mode}): {text}" for (name, mode), text in why.items()]
    return "\n".join(lines) + "\n"


def _tick(label: str) -> str:
    """A short axis label for a rung: its parameter, or what it is."""
    if label == "ground truth":
        return "gt"
    if label.startswith("driving video lag"):
        return f"lag {label.split(' ')[-1]}"
    if label.startswith("driving"):
        return "driving"
    return label.split(" ")[-1]


def write_plot(report, out: Path) -> Path:  # noqa: ANN001 - ValidationReport
    """One panel per ladder and mode: each metric's rung means, rescaled to [0, 1] with 1 = best rung value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(dict.fromkeys((s.ladder, s.mode) for s in report.scores))  # the ladders' table order
    cols = min(4, max(1, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, (ladder, mode) in zip(axes.flat, panels, strict=False):
        for s in (s for s in report.scores if (s.ladder, s.mode) == (ladder, mode)):
            values = np.asarray(s.rung_means, dtype=np.float64)
            values = values if s.direction == "higher" else -values
            finite = values[np.isfinite(values)]
            if finite.size < 1:
                continue
            lo, hi = finite.min(), finite.max()
            clipped = np.clip(values, lo, hi)  # +inf (PSNR of identical frames) drawn at the top
            scaled = (clipped - lo) / (hi - lo) if hi > lo else np.full_like(clipped, 0.5)
            ax.plot(range(len(values)), scaled, marker="o", linestyle="-" if s.passed else "--",
                    label=f"{s.metric.split('@')[0]} {_fmt(s.spearman)}")
        labels = next(s.rung_labels for s in report.scores if (s.ladder, s.mode) == (ladder, mode))
        ax.set_xticks(range(len(labels)), [_tick(lab) for lab in labels], fontsize=7)
        ax.set_title(f"{ladder} ({mode})", fontsize=9)
        ax.set_ylim(-0.05, 1.05)
        ax.set_ylabel("rescaled, 1 = better", fontsize=7)
        ax.legend(fontsize=6, loc="best")
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    fig.suptitle("ExprBench metric validation: rung means, best rung first (dashed: fails)", fontsize=10)
    fig.tight_layout()
    target = out / "validation.png"
    _atomic(target, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return target


def write_report(report, out: Path) -> dict[str, Path]:  # noqa: ANN001 - ValidationReport
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    md = out / "validation.md"
    _atomic(md, lambda p: Path(p).write_text(markdown(report)))
    return {"csv": write_csv(report, out), "md": md, "png": write_plot(report, out)}
