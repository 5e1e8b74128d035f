"""Manifest schema, safe paths and result validation: one-line errors that name the item."""

import json
import shutil

import pytest
from bench_media import FRAMES, copy_truth

from exprbench.benchmark import load_benchmark
from exprbench.benchmark.results import check_result, validate_results
from exprbench.errors import InputError
from exprbench.video import read_video, write_video


def test_sample_benchmark_contents(mini):
    kinds = {}
    for item in mini.items:
        kinds[(item.split, item.mode)] = kinds.get((item.split, item.mode), 0) + 1
        assert item.frames == FRAMES and item.fps == 25
        xs = [(b[0] + b[2]) / 2 for b in item.faces]
        assert xs == sorted(xs), f"{item.id}: faces not left to right"
    assert kinds == {("single", "self"): 4, ("single", "cross"): 4, ("multi", "self"): 1, ("multi", "cross"): 2}
    group = mini.item("multi-cross-multi_face")
    assert group.n_faces == 5 and len(group.driving) == 5
    pair = mini.item("multi-self-pair_woman_man")
    assert pair.n_faces == 2 and pair.driving_multi == pair.ground_truth
    for item in mini.items:
        if item.mode == "self":
            clip = read_video(mini.path(item.ground_truth))
            assert clip.shape[0] == FRAMES


def _copy_bench(mini, tmp_path):
    root = tmp_path / "b"
    shutil.copytree(mini.root, root)
    return root


def test_path_escape_is_refused(mini, tmp_path):
    root = _copy_bench(mini, tmp_path)
    data = json.loads((root / "manifest.json").read_text())
    data["items"][0]["portrait"] = "../../etc/passwd"
    (root / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match="points outside the benchmark folder"):
        load_benchmark(root)


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["items"][0].pop("faces"), "does not match the manifest schema at items/0: 'faces' is a required"),
    (lambda d: d["items"][1].update(id=d["items"][0]["id"]), "duplicate item ids"),
    (lambda d: d["items"][0].update(mode="both"), "items/0/mode"),
    (lambda d: d.update(version=99), "at version"),
    (lambda d: d["items"][0].update(faces=d["items"][0]["faces"] * 2, driving=d["items"][0]["driving"] * 2),
     "is in split 'single' with 2 faces"),
])
def test_bad_manifests(mini, tmp_path, edit, message):
    root = _copy_bench(mini, tmp_path)
    data = json.loads((root / "manifest.json").read_text())
    edit(data)
    (root / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=message) as err:
        load_benchmark(root)
    assert "\n" not in str(err.value)


def test_missing_media_and_bad_json(mini, tmp_path):
    root = _copy_bench(mini, tmp_path)
    (root / mini.items[0].portrait).unlink()
    with pytest.raises(InputError, match="item .* names .*, which is not a file in the benchmark folder"):
        load_benchmark(root)
    (root / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="is not valid JSON"):
        load_benchmark(root)


def test_result_validation_names_items(mini, tmp_path):
    results = copy_truth(mini, tmp_path / "results")
    items = mini.select("single")
    assert all(c.ok for c in validate_results(mini, results, "truth", items))
    bad = items[0]
    (results / "truth" / f"{bad.id}.mp4").unlink()
    short = items[1]
    frames = read_video(mini.path(short.ground_truth))[:10]
    write_video(results / "truth" / f"{short.id}.mp4", frames, 25)
    slow = items[2]
    write_video(results / "truth" / f"{slow.id}.mp4", read_video(mini.path(slow.ground_truth)), 24)
    with pytest.raises(InputError) as err:
        validate_results(mini, results, "truth", items)
    text = str(err.value)
    assert "3 of 8 results unusable" in text and f"{bad.id}: missing" in text
    assert f"{short.id}: 10 frames where {FRAMES} are required" in text and f"{slow.id}: 24.000 fps" in text
    assert check_result(results, "truth", short, allow_short=True).ok
