"""The results contract (docs/results-contract.md): `exprbench items`, the published schema, and the
frame-count and aspect rules `exprbench eval` enforces before scoring."""

import json
import subprocess
import sys

import numpy as np
from bench_media import FRAMES, copy_truth, truth_frames

from exprbench.benchmark.contract import even_size, portrait_size
from exprbench.benchmark.manifest import MANIFEST_SCHEMA, SCHEMA_FILE
from exprbench.benchmark.results import check_result
from exprbench.video import write_video
from exprbench_app.validate.ladders import resize_frames


def _items(*args):
    run = subprocess.run([sys.executable, "-m", "exprbench", "items", *args], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_items_lists_what_each_item_needs(mini):
    rows = [json.loads(line) for line in _items("--bench", str(mini.root), "--json").splitlines()]
    assert [r["item_id"] for r in rows] == [i.id for i in mini.items]
    for row, item in zip(rows, mini.items):
        assert row["result"] == f"{item.id}.mp4" and row["frames"] == FRAMES == item.frames
        assert (row["width"], row["height"]) == even_size(*portrait_size(mini, item))
        assert row["faces"] == item.n_faces and row["frame0_is_portrait"] == (item.mode == "self")
        assert row["driving"] == (item.driving or []) and row["driving_multi"] == item.driving_multi
    table = _items("--bench", str(mini.root), "--split", "multi").splitlines()
    assert table[0].startswith("item\t") and len(table) == 1 + len(mini.select("multi"))


def test_published_schema_is_the_code_schema():
    assert json.loads(SCHEMA_FILE.read_text()) == MANIFEST_SCHEMA, "regenerate exprbench/benchmark/manifest.schema.json"
    assert json.loads(_items("--schema")) == MANIFEST_SCHEMA


def test_extra_frames_are_refused_and_another_aspect_is_warned(mini, tmp_path, caplog):
    results = copy_truth(mini, tmp_path / "results")
    item = mini.item("single-self-man")
    assert check_result(results, "truth", item, bench=mini).ok
    frames = truth_frames(mini, item)
    path = results / "truth" / f"{item.id}.mp4"

    write_video(path, np.concatenate([frames, frames[-2:]]), item.rate)
    assert check_result(results, "truth", item, bench=mini).problem.startswith(f"{FRAMES + 2} frames where exactly")
    run = subprocess.run([sys.executable, "-m", "exprbench", "-q", "eval", "--bench", str(mini.root), "--results",
                          str(results), "--method", "truth", "--out", str(tmp_path / "ev"), "--items", item.id],
                         capture_output=True, text=True)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert f"{item.id}: {FRAMES + 2} frames where exactly {FRAMES} are required" in run.stderr

    with caplog.at_level("WARNING"):
        write_video(path, resize_frames(frames, 320, 180), item.rate)  # same shape, half size: no warning
        assert check_result(results, "truth", item, bench=mini).ok and not caplog.records
        write_video(path, resize_frames(frames, 360, 360), item.rate)  # a square crop of a 16:9 portrait
        assert check_result(results, "truth", item, bench=mini).ok
    [warning] = caplog.records
    assert str(path) in warning.getMessage() and "360x360 frames for a 640x360 portrait" in warning.getMessage()
