"""``multiexpr build`` data safety (issue 16): one writer per output (2), other files kept (3), workers that
die with their parent and a Ctrl-C that stops at once (5), no self-ingestion (7), resume that checks the
content (8), typed parameters (10), symlinks and odd entries as rejects (11), a publishable output (15).

Real sample media, real processes, real signals. The expensive part, one two-source build, is shared by
the module (``duo``); every test that changes it works on a copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from multiexpr.build import build
from multiexpr.cli import cli
from multiexpr.layout import Layout
from multiexpr.output import UPLOAD_IGNORE
from multiexpr.sources import content_sha256, discover

BUILD = [sys.executable, "-m", "multiexpr.cli", "build"]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def only_error_line(stderr: str) -> str:
    """The one line a refused build prints (logging at INFO may precede it)."""
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("INFO ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def copy_sources(sample_sources: Path, folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True)
    for name in names:
        shutil.copyfile(sample_sources / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def duo(sample_sources: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """One real build of two sources (one accepted clip) into ``dataset/`` inside the source folder.

    While it runs (after its first source, holding the lock), a second ``multiexpr build`` of the same
    input into the same folder is started as its own process: issue 16 item 2's scenario.
    """
    src = copy_sources(sample_sources, tmp_path_factory.mktemp("duo") / "videos", "duo_side_by_side.mp4",
                       "no_face.mp4")
    out = src / "dataset"
    seen: dict = {}

    def progress(done: int, total: int, marker: dict) -> None:
        if "second" in seen:
            return
        seen["before"] = tree(out)
        started = time.monotonic()
        seen["second"] = subprocess.run([*BUILD, str(src), "--out", str(out)], capture_output=True, text=True,
                                        timeout=120)
        seen["seconds"] = time.monotonic() - started
        seen["after"] = tree(out)
        seen["done_then"] = done

    result = build(src, out, progress=progress)
    clips = sorted((out / "clips").glob("*.mp4"))
    assert len(clips) == 1
    return SimpleNamespace(src=src, out=out, result=result, clip=clips[0], **seen)


def rerun(folder: Path, out: Path, *extra: str):  # noqa: ANN201 - click.testing.Result
    """``multiexpr build FOLDER --out OUT ...`` in this process (the models stay loaded between runs)."""
    return CliRunner().invoke(cli, ["build", str(folder), "--out", str(out), *extra])


# --- item 2: two builds into one folder -------------------------------------------------------------------

def test_second_build_fails_at_once_naming_the_first_and_the_first_completes(duo):
    second = duo.second
    assert second.returncode == 2
    line = only_error_line(second.stderr)
    assert f"pid {os.getpid()}" in line and str(duo.out) in line and "multiexpr build" in line
    assert "Traceback" not in second.stderr
    assert duo.after == duo.before, "the refused build changed the output folder"
    assert duo.done_then == 1, "the first build was in the middle of its work"
    # the first build then finished: both sources, the accepted clip complete and nothing half-written
    stats = json.loads((duo.out / "stats.json").read_text())
    assert (stats["sources"], stats["accepted"], duo.result.processed) == (2, 1, 2)
    rows = pd.read_parquet(duo.out / "data")
    assert list(rows.source) == ["duo_side_by_side.mp4"] and (duo.out / rows.video[0]).is_file()
    assert not [p for p in (duo.out / "clips").iterdir() if p.name.startswith(".")]


# --- item 7: an output inside its source folder ----------------------------------------------------------

def test_output_inside_the_source_folder_is_not_ingested_on_the_next_runs(duo, tmp_path):
    src = tmp_path / "videos"
    shutil.copytree(duo.src, src)
    out = src / "dataset"
    for _ in range(2):  # issue: 2, 4, 6 clips on successive runs
        result = rerun(src, out)
        assert result.exit_code == 0, result.output
        assert "1 clips from 2 sources (2 already done)" in result.stdout
    assert len(list((out / "clips").glob("*.mp4"))) == 1
    assert set(pd.read_parquet(out / "rejects.parquet").source) == {"no_face.mp4"}
    # another output of the same input, also inside it, does not see the first one's clips either
    _, sources = discover(src, exclude=src / "second_dataset")
    assert [s.name for s in sources] == ["duo_side_by_side.mp4", "no_face.mp4"]


# --- item 8: resume checks content ------------------------------------------------------------------------

def test_deleted_source_takes_its_clip_with_it(duo, tmp_path):
    src = tmp_path / "videos"
    shutil.copytree(duo.src, src)
    out = src / "dataset"
    (src / "duo_side_by_side.mp4").unlink()
    result = build(src, out)
    assert (result.processed, result.skipped) == (0, 1)
    assert result.stats["sources"] == 1 and result.stats["accepted"] == 0
    assert not list((out / "clips").glob("*.mp4")), "the deleted source's clip stayed in the dataset"
    assert len(pd.read_parquet(out / "data")) == 0
    assert "duo_side_by_side.mp4" not in set(pd.read_parquet(out / "rejects.parquet").source)
    assert len(Layout(out).committed()) == 1


def test_replaced_source_is_processed_again(duo, sample_sources, tmp_path):
    src = tmp_path / "videos"
    shutil.copytree(duo.src, src)
    out = src / "dataset"
    shutil.copyfile(sample_sources / "single_face.mp4", src / "duo_side_by_side.mp4")  # same name, one face now
    result = build(src, out)
    assert (result.processed, result.skipped) == (1, 1)
    assert result.stats["accepted"] == 0 and not list((out / "clips").glob("*.mp4")), "stale clip kept"
    rejects = pd.read_parquet(out / "rejects.parquet")
    assert set(rejects[rejects.source == "duo_side_by_side.mp4"].reason) == {"too_few_faces"}
    markers = [json.loads(Layout(out).marker(i).read_text()) for i in Layout(out).committed()]
    recorded = {m["source"]: m["content_sha256"] for m in markers}
    assert recorded["duo_side_by_side.mp4"] == content_sha256(src / "duo_side_by_side.mp4")


# --- item 3: other files in the output folder ------------------------------------------------------------

def test_build_into_a_folder_of_user_files_refuses_then_keeps_them(sample_sources, tmp_path):
    src = copy_sources(sample_sources, tmp_path / "videos", "no_face.mp4")
    out = tmp_path / "out"
    (out / "data").mkdir(parents=True)
    (out / "clips").mkdir()
    (out / "README.md").write_text("# my notes on these videos\n")
    pq.write_table(pa.table({"method": ["mine"], "score": [0.5]}), out / "data" / "my_results.parquet")
    (out / "clips" / ".notes").write_text("keep me\n")
    before = tree(out)

    result = rerun(src, out)
    assert result.exit_code == 2
    line = only_error_line(result.stderr)
    assert str(out) in line and "--force" in line
    assert tree(out) == before

    result = rerun(src, out, "--force", "--license", "cc-by-4.0")
    assert result.exit_code == 0, result.output
    kept = {rel: tree(out)[rel] for rel in ("data/my_results.parquet", "clips/.notes")}
    assert kept == {rel: before[rel] for rel in kept}
    card = yaml.safe_load((out / "README.md").read_text().split("---")[1])
    assert card["license"] == "cc-by-4.0"  # the README is the card now (--force replaces same-named files)

    # a rebuild from scratch (changed configuration, --force) clears the build's files, not the user's
    result = rerun(src, out, "--force", "--param", "min_face_px=128")
    assert result.exit_code == 0, result.output
    after = tree(out)
    assert {rel: after[rel] for rel in kept} == kept
    assert json.loads(after["run_config.json"])["config"]["min_face_px"] == 128


# --- item 5: worker lifetime --------------------------------------------------------------------------------

def _garbage_first(sample_sources: Path, folder: Path, *names: str) -> Path:
    """Sources whose largest file (scheduled first) is garbage, rejected at once: its marker shows the
    workers are up and working while the real videos are still in progress."""
    copy_sources(sample_sources, folder, *names)
    (folder / "big_garbage.mp4").write_bytes(os.urandom(3 << 20))
    return folder


def _default_sigint() -> None:
    """A job started in the background by a non-interactive shell (as CI may be) inherits SIGINT
    ignored, and Python then never raises KeyboardInterrupt: give the child the default handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(src: Path, out: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """``multiexpr build --workers 2`` in its own process group, once a first source is committed; returns
    the process and its descendants (the two workers and multiprocessing's helper)."""
    proc = subprocess.Popen([*BUILD, str(src), "--out", str(out), "--workers", "2"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=_default_sigint)
    deadline = time.monotonic() + 180
    while not Layout(out).committed():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no source finished"
        time.sleep(0.02)
    children = psutil.Process(proc.pid).children(recursive=True)
    workers = [c for c in children if "spawn_main" in _command_line(c)]
    assert len(workers) == 2, [c.cmdline() for c in children]
    return proc, children


def _command_line(process: psutil.Process) -> str:
    """Its command line, or "" for a short-lived helper gone meanwhile (``ctypes.util.find_library`` runs
    ``ld``; seen once in about 20 runs)."""
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return ""


def _alive(processes: list[psutil.Process]) -> list[int]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process.pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _wait_gone(processes: list[psutil.Process], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while _alive(processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _alive(processes)


def test_workers_die_with_a_killed_parent(sample_sources, tmp_path):
    src = _garbage_first(sample_sources, tmp_path / "videos", "duo_side_by_side.mp4", "duo_late_entry.mp4")
    out = tmp_path / "out"
    proc, children = _start(src, out)
    try:
        proc.send_signal(signal.SIGKILL)  # the parent only, as the OOM killer would
        proc.wait(10)
        orphans = _wait_gone(children, 5.0)
        assert not orphans, f"workers outlived their parent: {orphans}"
        markers = len(Layout(out).committed())
        time.sleep(1.0)
        assert len(Layout(out).committed()) == markers < 3, "something still writes into the output"
    finally:
        for pid in _alive(children):
            os.kill(pid, signal.SIGKILL)


def test_ctrl_c_stops_a_two_worker_build_at_once_and_a_rerun_completes_it(duo, sample_sources, tmp_path):
    src = _garbage_first(sample_sources, tmp_path / "videos", "duo_side_by_side.mp4", "single_face.mp4",
                         "no_face.mp4")
    out = tmp_path / "out"
    proc, children = _start(src, out)
    try:
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
        _, stderr = proc.communicate(timeout=60)
        stopped = time.monotonic() - sent
        assert not _wait_gone(children, 5.0), "a worker survived Ctrl-C"
    finally:
        for pid in _alive(children):
            os.kill(pid, signal.SIGKILL)
    kept = Layout(out).committed()
    assert proc.returncode == 130, stderr
    line = only_error_line(stderr)
    assert f"interrupted; {len(kept)} of 4 sources are finished and kept" in line and str(out) in line
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, "a worker printed a traceback"
    assert 1 <= len(kept) < 4, "Ctrl-C let the build run every queued source"
    assert stopped < 5.0, f"Ctrl-C took {stopped:.1f} s"
    for source_id in kept:  # finished sources are complete
        marker = json.loads(Layout(out).marker(source_id).read_text())
        assert all((out / clip).is_file() for clip in marker["clips"])

    result = build(src, out)  # the rerun does the rest only
    assert (result.skipped, result.processed) == (len(kept), 4 - len(kept))
    assert result.stats["sources"] == 4 and result.stats["accepted"] == 1
    clip = out / "clips" / duo.clip.name
    assert digest(clip) == digest(duo.clip), "the rerun's clip differs from an uninterrupted build's"
    shards = sorted((out / "data").glob("*.parquet"))
    assert [digest(p) for p in shards] == [digest(p) for p in sorted((duo.out / "data").glob("*.parquet"))]


# --- item 10: typed build parameters -----------------------------------------------------------------------

@pytest.mark.parametrize(("param", "says"), [
    ("min_faces=x", "min_faces: 'x' is not a int"),
    ("max_faces=-3", "max_faces=-3 is out of range"),
    ("out_fps=0", "out_fps=0.0 is out of range"),
    ("min_presence=nan", "min_presence=nan is not a finite number"),
])
def test_impossible_parameter_fails_before_anything_is_written(sample_sources, tmp_path, param, says):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["build", str(sample_sources), "--out", str(out), "--param", param])
    assert result.exit_code == 2, result.output
    line = only_error_line(result.stderr)
    assert says in line
    assert not out.exists()


def test_parameter_file_is_type_checked(sample_sources, tmp_path):
    config = tmp_path / "config.json"
    out = tmp_path / "out"
    for values, says in (({"min_faces": "x"}, "min_faces='x' is not of type int"),
                         ({"min_faces": 2.5}, "min_faces=2.5 is not of type int"),
                         ({"max_faces": 1}, "max_faces=1 is below min_faces=2"),
                         ({"min_face_px": True}, "min_face_px=True is not of type int")):
        config.write_text(json.dumps(values))
        result = CliRunner().invoke(cli, ["build", str(sample_sources), "--out", str(out), "--config", str(config)])
        assert result.exit_code == 2 and says in only_error_line(result.stderr), result.output
    assert not out.exists()
    result = CliRunner().invoke(cli, ["build", str(sample_sources), "--out", str(out), "--workers", "0"])
    assert result.exit_code == 2 and "workers" in only_error_line(result.stderr)


# --- item 11: folder mode resolves entries like manifest mode ----------------------------------------------

@pytest.fixture(scope="module")
def odd_input(sample_sources, tmp_path_factory) -> Path:
    """A folder with a real video, a truncated one, and every kind of entry folder mode used to skip or follow."""
    base = tmp_path_factory.mktemp("odd")
    src = copy_sources(sample_sources, base / "videos", "no_face.mp4", "corrupt.mp4")
    (src / "passwd.mp4").symlink_to("/etc/passwd")
    (src / "folder.mp4").mkdir()
    (src / "loop.mp4").symlink_to(src / "loop.mp4")
    (src / "dangling.mp4").symlink_to(src / "missing.mp4")
    (src / "inside_link.mp4").symlink_to(src / "no_face.mp4")
    outside = copy_sources(sample_sources, base / "outside", "single_face.mp4")
    (src / "linked").symlink_to(outside, target_is_directory=True)
    return src


EXPECTED_REASONS = {"passwd.mp4": "path_escapes_root", "folder.mp4": "not_a_file", "loop.mp4": "unresolvable",
                    "dangling.mp4": "unresolvable", "linked": "symlinked_folder", "corrupt.mp4": "unreadable",
                    "no_face.mp4": "too_few_faces", "inside_link.mp4": "too_few_faces"}


@pytest.fixture(scope="module")
def odd_build(odd_input, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("odd_out") / "out"
    result = CliRunner().invoke(cli, ["build", str(odd_input), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_every_odd_entry_is_a_reject_with_its_reason(odd_build):
    rejects = pd.read_parquet(odd_build / "rejects.parquet")
    assert dict(zip(rejects.source, rejects.reason)) == EXPECTED_REASONS
    assert json.loads((odd_build / "stats.json").read_text())["sources"] == len(EXPECTED_REASONS)
    assert not (odd_build / "clips").exists() or not list((odd_build / "clips").iterdir())


def test_manifest_mode_gives_the_same_reasons(odd_input, tmp_path):
    manifest = odd_input / "list.csv"
    names = ["passwd.mp4", "folder.mp4", "loop.mp4", "dangling.mp4", "no_face.mp4", "inside_link.mp4",
             "linked/single_face.mp4", "../outside/single_face.mp4", "/etc/passwd"]
    manifest.write_text("video\n" + "\n".join(names) + "\n")
    try:
        _, listed = discover(manifest)
        _, walked = discover(odd_input, exclude=tmp_path / "out")
    finally:
        manifest.unlink()
    problem = {s.name: s.problem.split(":", 1)[0] for s in listed}
    folder = {s.name: s.problem.split(":", 1)[0] for s in walked}
    for name in ("passwd.mp4", "folder.mp4", "loop.mp4", "dangling.mp4", "no_face.mp4", "inside_link.mp4"):
        assert problem[name] == folder[name], name
    assert problem["linked/single_face.mp4"] == problem["../outside/single_face.mp4"] == "path_escapes_root"
    assert problem["/etc/passwd"] == "path_escapes_root"


# --- item 15: what gets published ------------------------------------------------------------------------

def test_published_files_hold_no_build_state_and_no_local_paths(duo, odd_build):
    from huggingface_hub.utils import filter_repo_objects

    files = [p.relative_to(duo.out).as_posix() for p in duo.out.rglob("*") if p.is_file()]
    published = set(filter_repo_objects(files, ignore_patterns=UPLOAD_IGNORE))
    assert any(f.startswith(".work/") for f in files) and any(f.startswith(".exprbench") for f in files)
    assert not {f for f in published if f.startswith(".")}, "build state would be uploaded"
    assert {"README.md", "rejects.parquet", "stats.json", "run_config.json", f"clips/{duo.clip.name}"} <= published
    assert any(f.startswith("data/train-") for f in published)

    details = " ".join(pd.read_parquet(odd_build / "rejects.parquet").detail)
    base = str(odd_build.parent.parent)
    assert base not in details and "/etc/passwd" not in details and str(Path.home()) not in details, details
    assert "passwd.mp4" in details and "corrupt.mp4" in details


def test_card_declares_licence_task_and_features(duo):
    import datasets

    card = yaml.safe_load((duo.out / "README.md").read_text().split("---")[1])
    assert card["license"] == "unknown" and card["task_categories"] == ["image-to-video"]
    info = {c["config_name"]: c["features"] for c in card["dataset_info"]}
    for config, path in (("default", next((duo.out / "data").glob("*.parquet"))),
                         ("rejects", duo.out / "rejects.parquet")):
        features = datasets.Features.from_arrow_schema(pq.read_schema(path))
        assert datasets.Features._from_yaml_list(info[config]) == features, config
