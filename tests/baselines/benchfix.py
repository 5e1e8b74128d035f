"""Tiny benchmarks built from the real sample media with the manifest API (until ``exprbench prepare`` lands)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from exprbench.assets import asset_path
from exprbench.benchmark.manifest import Benchmark, Item
from exprbench.video import load_image, read_resampled, save_image, write_video

FPS = 25.0
FRAMES = 50
PEXELS_START_S = 0.0  # a neutral face that turns to a frown and a crying face within 2 s, no hands


def _clip(name: str, start: float = 0.0) -> np.ndarray:
    return read_resampled(asset_path(name), FPS, max_frames=FRAMES, start=start)


def _faces(image: np.ndarray) -> list[list[float]]:
    from exprbench.faces import analyze_image

    found = analyze_image(image, identity=False)
    boxes = sorted(found.boxes[0].tolist(), key=lambda b: (b[0] + b[2]) / 2)
    return [[round(v, 1) for v in b] for b in boxes]


def build_bench(root: Path, which: tuple[str, ...] = ("self_woman", "cross_astronaut", "multi_group", "multi_video")) -> Benchmark:
    """Items: a self item (woman, neutral to crying), a cross item (astronaut driven by her), a 5-face multi item
    (group photo, two driving clips alternated) and a 2-face item driven by one side-by-side video."""
    root.mkdir(parents=True, exist_ok=True)
    woman = _clip("sample_pexels", PEXELS_START_S)
    man = _clip("sample_single_face_video")
    write_video(root / "woman.mp4", woman, FPS)
    write_video(root / "man.mp4", man, FPS)
    items = []
    if "self_woman" in which:
        save_image(root / "woman_first.png", woman[0])
        items.append(Item(id="self_woman", split="single", mode="self", portrait="woman_first.png",
                          faces=_faces(woman[0]), frames=FRAMES, fps=FPS, driving=["woman.mp4"],
                          ground_truth="woman.mp4"))
    if "cross_astronaut" in which:
        astronaut = load_image(asset_path("sample_astronaut"))
        save_image(root / "astronaut.png", astronaut)
        items.append(Item(id="cross_astronaut", split="single", mode="cross", portrait="astronaut.png",
                          faces=_faces(astronaut), frames=FRAMES, fps=FPS, driving=["woman.mp4"]))
    if "multi_group" in which:
        group = load_image(asset_path("sample_multi_face"))
        save_image(root / "group.png", group)
        faces = _faces(group)
        items.append(Item(id="multi_group", split="multi", mode="cross", portrait="group.png", faces=faces,
                          frames=FRAMES, fps=FPS, driving=[["woman.mp4", "man.mp4"][i % 2] for i in range(len(faces))]))
    if "multi_video" in which:
        pair = np.concatenate([man, woman], axis=2)  # man left, woman right, 1280x360
        write_video(root / "pair.mp4", pair, FPS)
        save_image(root / "pair_first.png", pair[0])
        items.append(Item(id="multi_video", split="multi", mode="self", portrait="pair_first.png",
                          faces=_faces(pair[0]), frames=FRAMES, fps=FPS, driving_multi="pair.mp4",
                          ground_truth="pair.mp4"))
    bench = Benchmark(root=root, name="baselines-test", fps=FPS, frames=FRAMES, items=items)
    bench.save()
    return bench


FAKE_METHOD = Path(__file__).parent / "fake_method.py"


def fake_table(mode: str, **extra) -> dict:
    """A methods-config table for the fake method in ``mode`` (runs in this interpreter)."""
    return {"kind": "jobfile", "python": sys.executable, "script": str(FAKE_METHOD), "extra_args": [mode], **extra}
