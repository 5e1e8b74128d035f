"""End to end on the real mini benchmark: two ladders, one item, 6 frames, through exprbench eval."""

import pandas as pd
import pytest

from exprbench.errors import InputError
from exprbench_app.validate import validate

FRAMES = 6
ITEM = "single-self-pexels_00s"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    from exprbench.benchmark.prepare import prepare_sample

    try:
        return prepare_sample(tmp_path_factory.mktemp("vbench") / "mini", frames=FRAMES).root
    except Exception as exc:  # noqa: BLE001 - sample media not installed here
        pytest.skip(f"sample benchmark not available: {exc}")


@pytest.fixture(scope="module")
def run(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("validate")
    report = validate(bench, out, items=[ITEM], frames=FRAMES, ladders=["blur", "lag"])
    return out, report


def test_validation_csv_has_the_contract_columns_and_psnr_orders_blur(run):
    out, report = run
    table = pd.read_csv(out / "validation.csv")
    for column in ("metric", "ladder", "mode", "rungs", "spearman", "pairs_correct", "pairs_total", "passed"):
        assert column in table
    psnr = table[(table.metric == "psnr@v2") & (table.ladder == "blur")].iloc[0]
    assert psnr.spearman == pytest.approx(1.0) and psnr.passed and psnr["mode"] == "self"
    assert (psnr.rungs, psnr.pairs_correct, psnr.pairs_total) == (4, 3, 3)
    assert set(table.ladder) == {"blur", "lag"}
    assert {"lpips@v2", "ssim@v2", "lmd@v2"} <= set(table[table.ladder == "blur"].metric)
    assert (out / "validation.png").stat().st_size > 0
    md = (out / "validation.md").read_text()
    assert "Failing metric / ladder pairs" in md and "`psnr@v2` | blur" in md
    for failure in report.failures:
        assert f"`{failure.metric}` on {failure.ladder}" in md


def test_the_ground_truth_rung_is_shared_and_cut_to_the_frame_budget(run):
    from exprbench.video import probe

    out, report = run
    assert sorted(report.rung_methods) == sorted(["gt", "blur-1", "blur-2", "blur-4", "lag-2", "lag-4", "lag-8"])
    assert probe(out / "results" / "gt" / f"{ITEM}.mp4").n_frames == FRAMES


def test_rerun_reuses_scored_rungs(run, bench, monkeypatch):
    import exprbench.evaluate

    out, first = run

    def refuse(*args, **kwargs):
        raise AssertionError("a finished rung was scored again")

    monkeypatch.setattr(exprbench.evaluate, "evaluate", refuse)
    again = validate(bench, out, items=[ITEM], frames=FRAMES, ladders=["blur", "lag"])
    assert again.frame().equals(first.frame())
    assert again.seconds["reused"] == len(first.rung_methods) and again.seconds["eval"] == first.seconds["eval"] > 0


def test_unknown_ladder_is_a_one_line_error(bench, tmp_path):
    with pytest.raises(InputError, match="unknown ladder"):
        validate(bench, tmp_path, items=[ITEM], ladders=["blurr"])


def test_cli_needs_exactly_one_benchmark_source(tmp_path):
    from click.testing import CliRunner

    from exprbench.cli.main import cli

    result = CliRunner().invoke(cli, ["validate", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "exactly one of --bench BENCH or --sample" in result.output
