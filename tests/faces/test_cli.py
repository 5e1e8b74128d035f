"""``exprbench faces``: one line per track, the table written, one-line errors."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from exprbench.assets import asset_path
from exprbench.cli.common import FriendlyGroup
from exprbench.cli.faces_cmd import faces_cmd
from exprbench.faces import FaceTracks


@pytest.fixture(scope="module")
def cli():
    @click.group(cls=FriendlyGroup)
    def group() -> None:
        """Stands in for the exprbench group, where the lead registers the command."""

    group.add_command(faces_cmd)
    return group


def test_image_prints_one_line_per_face_and_writes_the_table(cli, tmp_path):
    out = tmp_path / "faces.parquet"
    result = CliRunner().invoke(cli, ["faces", str(asset_path("sample_multi_face")), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    tracks = [line for line in lines if line.startswith("track ")]
    assert len(tracks) == 5 and tracks[0].startswith("track 0: 1 frames, coverage 100.0%, mean box (")
    assert "mean yaw" in tracks[0] and "5 face track(s)" in lines[0]
    table = FaceTracks.from_parquet(out)
    assert table.n_tracks == 5 and f"wrote {out} (5 rows)" in result.output


def test_video_with_partial_coverage_and_resampling(cli, tmp_path):
    result = CliRunner().invoke(cli, ["faces", str(asset_path("sample_face_noface")), "--fps", "6",
                                      "--identity-every", "0", "--no-cache"])
    assert result.exit_code == 0, result.output
    track = [line for line in result.output.splitlines() if line.startswith("track ")]
    assert len(track) == 1 and "coverage 100.0%" not in track[0]


def test_no_face_video_and_bad_output_name(cli, tmp_path):
    result = CliRunner().invoke(cli, ["faces", str(asset_path("sample_no_face")), "--max-frames", "10",
                                      "--identity-every", "0", "--no-cache"])
    assert result.exit_code == 0 and "0 face track(s)" in result.output
    bad = CliRunner().invoke(cli, ["faces", str(asset_path("sample_no_face")), "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "must be a .parquet file" in bad.output and "Traceback" not in bad.output
    missing = CliRunner().invoke(cli, ["faces", str(tmp_path / "nope.mp4")])
    assert missing.exit_code == 2 and "file not found" in missing.output
