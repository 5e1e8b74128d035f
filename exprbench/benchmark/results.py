"""Generated results: ``RESULTS/<method>/<item_id>.mp4``, validated before anything is scored.

Why validate first: a method that silently returns 24 fps or 100 frames instead of 125 makes every
temporal metric meaningless; the error must name the item before hours of scoring are spent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from exprbench.benchmark.contract import (
    ASPECT_TOLERANCE,
    FPS_TOLERANCE,
    aspect_mismatch,
    portrait_size,
    result_name,
)
from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.errors import ExprBenchError, InputError
from exprbench.video import VideoInfo, probe

log = logging.getLogger(__name__)


def result_path(results: Path, method: str, item: Item) -> Path:
    """``RESULTS/<method>/<item id>.mp4`` (the contract: ``exprbench.benchmark.contract``)."""
    return Path(results) / method / result_name(item)


@dataclass
class ResultCheck:
    item: Item
    path: Path
    info: VideoInfo | None
    problem: str | None  # None when the result is usable

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_result(results: Path, method: str, item: Item, allow_short: bool = False,
                 bench: Benchmark | None = None) -> ResultCheck:
    """Check one result against the contract: rate and exact frame count; given ``bench`` (to read the
    portrait), a result of another aspect ratio is warned about."""
    path = result_path(results, method, item)
    if not path.is_file():
        return ResultCheck(item, path, None, "missing")
    try:
        info = probe(path)
    except ExprBenchError as exc:
        return ResultCheck(item, path, None, str(exc))
    if abs(info.fps - item.fps) > FPS_TOLERANCE * item.fps:
        return ResultCheck(item, path, info, f"{info.fps:.3f} fps where {item.fps:g} are required")
    if info.n_frames < item.frames and not allow_short:
        return ResultCheck(item, path, info, f"{info.n_frames} frames where {item.frames} are required "
                                             "(--allow-short scores the frames present)")
    if info.n_frames > item.frames:
        return ResultCheck(item, path, info, f"{info.n_frames} frames where exactly {item.frames} are required "
                                             "(frame k must match driving frame k; write the first "
                                             f"{item.frames})")
    if bench is not None:
        size = portrait_size(bench, item)
        if aspect_mismatch(info.width, info.height, size) > ASPECT_TOLERANCE:
            # protocol v2 resizes a frame as a whole (``frames.resize``), so this is scored, but loudly
            log.warning("%s: %dx%d frames for a %dx%d portrait (another aspect ratio): scored after a whole-frame "
                        "resize, so faces may not line up with the portrait's boxes; write the portrait's shape "
                        "(docs/results-contract.md)", path, info.width, info.height, *size)
    return ResultCheck(item, path, info, None)


def validate_results(bench: Benchmark, results: Path, method: str, items: list[Item],
                     allow_short: bool = False) -> list[ResultCheck]:
    """Check every item; raise one error naming the first bad items unless all are usable."""
    checks = [check_result(results, method, item, allow_short, bench) for item in items]
    bad = [c for c in checks if not c.ok]
    if bad:
        listing = "; ".join(f"{c.item.id}: {c.problem}" for c in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InputError(Path(results) / method, f"{len(bad)} of {len(checks)} results unusable: {listing}{more}",
                         "regenerate them, or pass --keep-going to score the rest")
    return checks
