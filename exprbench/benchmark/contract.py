"""The results contract: what a method receives for each item and what ``exprbench eval`` accepts back.

Why one module: the rules were spread over ``eval --help``, ``baselines/README.md`` and a docstring, so
a method author outside the harness had to guess. ``requirements`` states them per item (the
``exprbench items`` command prints them), ``exprbench.benchmark.results.check_result`` enforces them
with the constants below, and ``docs/results-contract.md`` explains them with an example tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from exprbench.benchmark.manifest import Benchmark, Item

RESULT_SUFFIX = ".mp4"
FPS_TOLERANCE = 0.01  # relative: 25 vs 24.9 fails, 25 vs 24.999 passes
# A result may be any size of the portrait's shape (it is resized for pixel metrics, protocol
# ``frames.resize``); an aspect ratio further from the portrait's than this (relative; even-flooring a
# side of 100 px or more stays within it, a crop or a letterbox does not) is warned about by eval.
ASPECT_TOLERANCE = 0.02


def result_name(item: Item) -> str:
    """``<item id>.mp4``: the file a method writes for ``item`` under ``RESULTS/<method>/``."""
    return f"{item.id}{RESULT_SUFFIX}"


def even_size(width: int, height: int) -> tuple[int, int]:
    """The portrait's size with each side floored to an even number (what H.264 in yuv420p can store)."""
    return width - width % 2, height - height % 2


def aspect_mismatch(width: int, height: int, portrait_size: tuple[int, int]) -> float:
    """Relative difference between a result's aspect ratio and the portrait's."""
    pw, ph = portrait_size
    return abs((width / height) / (pw / ph) - 1.0)


@dataclass(frozen=True)
class Requirements:
    """One item's inputs and the exact shape of the result it needs."""

    item_id: str
    split: str
    mode: str
    result: str  # relative to RESULTS/<method>/
    frames: int
    fps: float
    size: tuple[int, int]  # width, height
    faces: int
    portrait: str
    driving: tuple[str, ...]  # one per face, left to right
    driving_multi: str | None
    frame0_is_portrait: bool

    def record(self) -> dict:
        """A JSON-ready dict (``exprbench items --json``)."""
        return {"item_id": self.item_id, "split": self.split, "mode": self.mode, "result": self.result,
                "frames": self.frames, "fps": self.fps, "width": self.size[0], "height": self.size[1],
                "faces": self.faces, "portrait": self.portrait, "driving": list(self.driving),
                "driving_multi": self.driving_multi, "frame0_is_portrait": self.frame0_is_portrait}


def portrait_size(bench: Benchmark, item: Item) -> tuple[int, int]:
    """(width, height) of the item's portrait, read from the image header only."""
    from PIL import Image

    with Image.open(bench.path(item.portrait)) as image:
        return image.size


def requirements(bench: Benchmark, item: Item) -> Requirements:
    """What ``item`` gives a method and what the method must write back (see the module docstring)."""
    return Requirements(item_id=item.id, split=item.split, mode=item.mode, result=result_name(item),
                        frames=item.frames, fps=item.fps, size=even_size(*portrait_size(bench, item)),
                        faces=item.n_faces, portrait=item.portrait, driving=tuple(item.driving or ()),
                        driving_multi=item.driving_multi, frame0_is_portrait=item.mode == "self")

