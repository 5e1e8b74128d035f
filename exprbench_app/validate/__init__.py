"""Meta-evaluation: proof, on a benchmark's own media, that each metric orders known-quality outputs.

``validate(bench_root, out)`` builds controlled ladders (warp strength, pixel degradations, broken
timing, the wrong person), scores every rung with the normal ``exprbench.evaluate`` path and writes
``validation.csv`` (read by the leaderboard's trust section), ``validation.md`` and ``validation.png``.
"""

from exprbench_app.validate.ladders import LADDERS, Ladder, Rung
from exprbench_app.validate.meta import (
    LadderScore,
    adjacent_pairs,
    score_ladder,
    spearman,
)
from exprbench_app.validate.run import (
    SAMPLE_FRAMES,
    SAMPLE_ITEMS,
    IdentityCheck,
    ValidationReport,
    sample_bench,
    validate,
)

__all__ = ["LADDERS", "SAMPLE_FRAMES", "SAMPLE_ITEMS", "IdentityCheck", "Ladder", "LadderScore", "Rung",
           "ValidationReport", "adjacent_pairs", "sample_bench", "score_ladder", "spearman", "validate"]
