"""One-pair scoring: every applicable metric of one generated video, through eval's own code path.

For notebooks and quick checks (``score_pair`` / ``exprbench score``): the pair becomes a one-item
in-memory benchmark whose files are the caller's own (no copies, no manifest on disk), and
``evaluate.score_item`` scores it exactly as ``exprbench eval`` scores a benchmark item, so the numbers
are the same. Faces come from the portrait (``portrait``, or in self mode the reference's first
frame, which the protocol makes the portrait), left to right; one row per face.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.benchmark.results import ResultCheck
from exprbench.errors import InputError
from exprbench.video import load_image, probe, read_video, save_image


class _PairBenchmark(Benchmark):
    """A benchmark whose 'relative' paths are the caller's files, resolved by name."""

    files: dict[str, Path]

    def path(self, relative: str) -> Path:
        return self.files[relative]


def score_pair(generated: str | Path, reference: str | Path, portrait: str | Path | None = None,
               mode: str = "self", metrics: tuple[str, ...] | None = None) -> list[dict]:
    """Score ``generated`` against ``reference`` (ground truth in self mode, the driving video in cross
    mode); returns one dict per face with every applicable metric (NaN where a face is not found)."""
    from exprbench.faces import analyze_image
    from exprbench.scoring.instances import set_availability
    from exprbench.scoring.item import score_item
    from exprbench.scoring.options import EvalOptions

    if mode not in ("self", "cross"):
        raise InputError(None, f"mode must be self or cross, got {mode!r}")
    generated, reference = Path(generated), Path(reference)
    gen_info, ref_info = probe(generated), probe(reference)
    if portrait is None and mode == "cross":
        raise InputError(None, "cross mode needs --portrait (the identity image the video animates)")
    with tempfile.TemporaryDirectory(prefix="exprbench-score-") as tmp:
        if portrait is None:  # self mode: frame 0 of the ground truth is the portrait
            portrait = save_image(Path(tmp) / "portrait.png", read_video(ref_info, [0])[0])
        portrait = Path(portrait)
        image = load_image(portrait)
        tracks = analyze_image(image, num_faces=8, identity=False)
        if tracks.n_tracks == 0:
            raise InputError(portrait, "no face found in the portrait", "pass a portrait with a visible face")
        boxes = tracks.boxes[0]
        boxes = boxes[np.argsort((boxes[:, 0] + boxes[:, 2]) / 2)]
        n = min(gen_info.n_frames, ref_info.n_frames)
        multi = len(boxes) > 1
        item = Item(id=generated.stem, split="multi" if multi else "single", mode=mode, portrait="portrait",
                    faces=[[float(v) for v in b] for b in boxes], frames=n, fps=ref_info.fps,
                    driving=None if multi else ["reference"], driving_multi="reference" if multi else None,
                    ground_truth="reference" if mode == "self" else None)
        bench = _PairBenchmark(root=Path(tmp), name="pair", fps=ref_info.fps, frames=n, items=[item])
        bench.files = {"portrait": portrait, "reference": reference}
        options = EvalOptions(metrics=metrics, allow_short=True)
        set_available, _ = set_availability(options)
        outcome = score_item(bench, item, ResultCheck(item, generated, gen_info, None), options, set_available)
    rows = outcome.rows
    for row in rows:
        row["decode_errors"] = outcome.decode_errors
    return rows
