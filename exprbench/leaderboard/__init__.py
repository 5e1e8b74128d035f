"""The ExprBench leaderboard: merge ``exprbench eval`` outputs into versioned CSVs, a static page and plots.

``build_leaderboard(runs, out)`` is the API; ``exprbench leaderboard`` is a thin command over it.
"""

from exprbench.leaderboard.build import (
           FACES_CSV,
           PAIRS_CSV,
           Leaderboard,
           build_leaderboard,
           csv_name,
)
from exprbench.leaderboard.paper import PAPER_SOURCE, PAPER_TABLE, load_paper_table
from exprbench.leaderboard.runs import Run, load_run, load_runs
from exprbench.leaderboard.table import face_columns, leaderboard_columns
from exprbench.scoring.schema import RUN_FILE

__all__ = ["FACES_CSV", "PAIRS_CSV", "PAPER_SOURCE", "PAPER_TABLE", "RUN_FILE", "Leaderboard", "Run",
           "build_leaderboard",
           "csv_name", "face_columns", "leaderboard_columns", "load_paper_table", "load_run", "load_runs"]
