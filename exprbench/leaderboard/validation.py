"""Reading ``exprbench validate``'s ``validation.csv`` for the page's "Can these numbers be trusted?" section.

Why the leaderboard shows it: a ranking is only as good as the metrics' ability to order outputs of
known quality; the validation report measures exactly that on the benchmark's own items (controlled
ladders: warp strength, pixel degradations, time, identity). The page renders it as given and says so
plainly when no report was passed.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from exprbench.errors import InputError

REQUIRED = ("metric", "ladder", "mode", "rungs", "spearman", "pairs_correct", "pairs_total", "passed")


@dataclass(frozen=True)
class Check:
    """One metric on one ladder and mode."""

    metric: str
    ladder: str
    mode: str
    rungs: str
    spearman: float
    pairs_correct: int
    pairs_total: int
    passed: bool
    extras: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Validation:
    """A whole report; ``source`` is the file name shown on the page (never a machine path)."""

    source: str
    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


def _bool(path: Path, line: int, text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise InputError(path, f"line {line}: passed={text!r} is not true/false", "re-run 'exprbench validate'")


def _number(path: Path, line: int, name: str, text: str) -> float:
    try:
        return float(text) if text.strip() else math.nan
    except ValueError:
        raise InputError(path, f"line {line}: {name}={text!r} is not a number", "re-run 'exprbench validate'") from None


def _count(path: Path, line: int, name: str, text: str) -> int:
    value = _number(path, line, name, text)
    if math.isnan(value) or value < 0 or value != int(value):
        raise InputError(path, f"line {line}: {name}={text!r} is not a count", "re-run 'exprbench validate'")
    return int(value)


def load_validation(path: str | Path) -> Validation:
    """Read and check a validation report; a malformed one is a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "is missing (validation report)", "run 'exprbench validate --out DIR' and pass "
                                                                 "DIR/validation.csv, or leave --validation out")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            records = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(path, f"cannot be read as CSV ({exc})", "re-run 'exprbench validate'") from exc
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(path, f"lacks column(s) {', '.join(missing)}", "re-run 'exprbench validate'")
    if not records:
        raise InputError(path, "has no rows", "re-run 'exprbench validate'")
    checks = []
    for line, r in enumerate(records, start=2):
        checks.append(Check(
            metric=r["metric"], ladder=r["ladder"], mode=r["mode"], rungs=r["rungs"],
            spearman=_number(path, line, "spearman", r["spearman"]),
            pairs_correct=_count(path, line, "pairs_correct", r["pairs_correct"]),
            pairs_total=_count(path, line, "pairs_total", r["pairs_total"]),
            passed=_bool(path, line, r["passed"]),
            extras={k: v for k, v in r.items() if k not in REQUIRED and k is not None}))
    checks.sort(key=lambda c: (c.metric, c.ladder, c.mode))
    return Validation(source=path.name, checks=tuple(checks))
