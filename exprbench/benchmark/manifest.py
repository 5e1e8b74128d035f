"""The benchmark layout: a folder with ``manifest.json`` and the media it names.

Why a versioned JSON schema: a benchmark is shared between labs and outlives the code; every item must
say exactly what the method receives (portrait, face boxes in left-to-right order, driving input) and
what it is scored against, and paths must stay inside the benchmark folder (a manifest from the internet
must not make us read ``../../etc``).

Item modes: ``self`` (the driving video's first frame is the portrait; the driving video is the ground
truth) and ``cross`` (another person drives; no ground truth). Driving input is either one video per
face (``driving``) or one multi-person video whose faces are split by tracking (``driving_multi``), as
the official FantasyPortrait inference accepts both.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import jsonschema

from exprbench.errors import InputError
from exprbench.files import atomic_write
from exprbench.framerate import exact_rate

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
# the schema below, published as a file for other tools (a test keeps the two equal)
SCHEMA_FILE = Path(__file__).with_name("manifest.schema.json")

_BOX = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}
MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ExprBench benchmark manifest",
    "type": "object",
    "required": ["schema", "version", "name", "fps", "frames", "items"],
    "properties": {
        "schema": {"const": "exprbench-manifest"},
        "version": {"const": SCHEMA_VERSION},
        "name": {"type": "string", "minLength": 1},
        "fps": {"type": "number", "exclusiveMinimum": 0},
        "frames": {"type": "integer", "minimum": 1},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "split", "mode", "portrait", "faces", "frames", "fps"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
                    "split": {"enum": ["single", "multi"]},
                    "mode": {"enum": ["self", "cross"]},
                    "portrait": {"type": "string"},
                    "faces": {"type": "array", "items": _BOX, "minItems": 1},
                    "driving": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "driving_multi": {"type": "string"},
                    "ground_truth": {"type": ["string", "null"]},
                    "frames": {"type": "integer", "minimum": 1},
                    "fps": {"type": "number", "exclusiveMinimum": 0},
                    "source": {"type": "object"},
                },
                "oneOf": [{"required": ["driving"]}, {"required": ["driving_multi"]}],
                "additionalProperties": False,
            },
        },
        "created_by": {"type": "string"},
        "description": {"type": "string"},
    },
    "additionalProperties": False,
}


@dataclass
class Item:
    """One benchmark item: what a method receives and what it is scored against."""

    id: str
    split: str
    mode: str
    portrait: str
    faces: list[list[float]]
    frames: int
    fps: float
    driving: list[str] | None = None
    driving_multi: str | None = None
    ground_truth: str | None = None
    source: dict = field(default_factory=dict)

    @property
    def n_faces(self) -> int:
        return len(self.faces)

    @property
    def rate(self) -> Fraction:
        """The exact frame rate ``fps`` stands for (a stored 29.97 is 30000/1001)."""
        return exact_rate(self.fps)

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and v != {}}


@dataclass
class Benchmark:
    """A loaded benchmark: its root folder, settings and items, with paths resolved safely."""

    root: Path
    name: str
    fps: float
    frames: int
    items: list[Item]
    description: str = ""

    @property
    def rate(self) -> Fraction:
        """The exact frame rate ``fps`` stands for (a stored 29.97 is 30000/1001)."""
        return exact_rate(self.fps)

    def path(self, relative: str) -> Path:
        """Resolve a manifest path, refusing anything that escapes the benchmark folder."""
        return resolve_inside(self.root, relative)

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InputError(self.root / MANIFEST_NAME, f"has no item {item_id!r}")

    def select(self, split: str | None = None, items: list[str] | None = None) -> list[Item]:
        chosen = [i for i in self.items if split in (None, "all", i.split)]
        if items:
            wanted = set(items)
            missing = wanted - {i.id for i in chosen}
            if missing:
                raise InputError(self.root / MANIFEST_NAME, f"has no item(s) {', '.join(sorted(missing))}")
            chosen = [i for i in chosen if i.id in wanted]
        return chosen

    def to_json(self) -> dict:
        return {"schema": "exprbench-manifest", "version": SCHEMA_VERSION, "name": self.name, "fps": self.fps,
                "frames": self.frames, "description": self.description, "items": [i.to_json() for i in self.items]}

    def save(self) -> Path:
        data = self.to_json()
        jsonschema.validate(data, MANIFEST_SCHEMA)
        target = self.root / MANIFEST_NAME
        return atomic_write(target, json.dumps(data, indent=1) + "\n")


def resolve_inside(root: Path, relative: str) -> Path:
    root = root.resolve()
    candidate = (root / relative).resolve()
    if os.path.isabs(relative) or not candidate.is_relative_to(root):
        raise InputError(root / MANIFEST_NAME, f"path {relative!r} points outside the benchmark folder",
                         "manifest paths must be relative and stay inside it")
    return candidate


def load_benchmark(root: str | Path) -> Benchmark:
    """Load and validate ``root/manifest.json``; every referenced file must exist inside ``root``."""
    root = Path(root)
    manifest = root / MANIFEST_NAME
    if not manifest.is_file():
        raise InputError(manifest, "not found", "create a benchmark with 'exprbench prepare'")
    try:
        data = json.loads(manifest.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(manifest, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        jsonschema.validate(data, MANIFEST_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise InputError(manifest, f"does not match the manifest schema at {where}: {exc.message}") from None
    _check_counts(manifest, data)
    items = [Item(**raw) for raw in data["items"]]
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise InputError(manifest, "has duplicate item ids")
    bench = Benchmark(root=root, name=data["name"], fps=data["fps"], frames=data["frames"], items=items,
                      description=data.get("description", ""))
    for item in items:
        for rel in [item.portrait, *(item.driving or []), item.driving_multi, item.ground_truth]:
            if rel is not None and not bench.path(rel).is_file():  # repr: a name may hold any character
                raise InputError(manifest, f"item {item.id} names {rel!r}, which is not a file in the benchmark "
                                           "folder")
        if item.driving is not None and len(item.driving) != item.n_faces:
            raise InputError(manifest, f"item {item.id} has {item.n_faces} faces but {len(item.driving)} driving videos")
        if item.rate != bench.rate:
            raise InputError(manifest, f"item {item.id} is at {item.fps:g} fps but the benchmark at {bench.fps:g} fps",
                             "a benchmark has one frame rate; prepare it again")
        if (item.split == "single") != (item.n_faces == 1):  # each split is scored and ranked as its own table
            raise InputError(manifest, f"item {item.id} is in split {item.split!r} with {item.n_faces} faces",
                             "split 'single' holds one-face items, 'multi' two faces or more")
        if item.mode == "self" and item.ground_truth is None:
            raise InputError(manifest, f"item {item.id} is a self item without ground_truth")
        _check_boxes(manifest, item, bench.path(item.portrait))
    return bench


def _check_counts(manifest: Path, data: dict) -> None:
    """Frame counts must be JSON integers: jsonschema accepts 50.0 as an integer, which later breaks
    frame indexing; rates must be finite."""
    entries = [("frames", data["frames"])] + [(f"items/{i}/frames", raw["frames"]) for i, raw in enumerate(data["items"])]
    for where, value in entries:
        if type(value) is not int:
            raise InputError(manifest, f"{where} must be a whole number of frames, got {value!r}", "write e.g. 50, not 50.0")
    for where, value in [("fps", data["fps"])] + [(f"items/{i}/fps", raw["fps"]) for i, raw in enumerate(data["items"])]:
        try:
            exact_rate(value)
        except ValueError:
            raise InputError(manifest, f"{where} must be a positive frame rate, got {value!r}") from None


def _check_boxes(manifest: Path, item: Item, portrait: Path) -> None:
    """Each face box must be a real box on the portrait: x0 < x1, y0 < y1, overlapping the image and no
    farther than one image size outside it (detector boxes may stick out a little; a huge box is an error)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(portrait) as image:
            width, height = image.size
    except (OSError, UnidentifiedImageError) as exc:
        raise InputError(portrait, f"is not a readable image ({exc})", "replace the portrait") from None
    for j, (x0, y0, x1, y1) in enumerate(item.faces):
        inside = -width <= x0 < x1 <= 2 * width and -height <= y0 < y1 <= 2 * height
        if not (inside and x1 > 0 and y1 > 0 and x0 < width and y0 < height):
            raise InputError(manifest, f"item {item.id} face {j} box {[x0, y0, x1, y1]} is not a box on its "
                                       f"{width}x{height} portrait", "boxes are x0, y0, x1, y1 in portrait pixels")
