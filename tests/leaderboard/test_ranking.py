"""Ranking v2 on eval folders with chosen numbers (evalfolders.py): anchored normalisation, lost faces,
paired bootstrap ties, comparability, the trust section. Each test states a property v1's min-max
ranking did not have."""

import csv
import math

import numpy as np
import pytest
from evalfolders import SHA, Face, anchors_of, write_run

from exprbench.errors import InputError
from exprbench.leaderboard import FACES_CSV, PAIRS_CSV, build_leaderboard, csv_name
from exprbench.leaderboard.ranking import normalise_value, resample_weights
from exprbench.protocol import PROTOCOL, metric_protocol

N = 6  # items per board: enough for the bootstrap (min_items_for_ci is 3)


def read(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def ours(out, split):
    return {(r["method"], r["method_version"], r["mode"]): r for r in read(out / csv_name(split))
            if r["source"] == "exprbench eval"}


def cross_faces(scale, csim, motion, jitter=0.0):
    """single/cross faces: ``scale`` times the static baseline's errors, per-item variation included."""
    out = []
    for i in range(N):
        wobble = 1.0 + jitter * (-1) ** i
        out.append(Face(f"single-cross-{i}", 0, {
            "aed": (0.05 + 0.005 * i) * scale * wobble, "apd": (2.0 + 0.1 * i) * scale * wobble,
            "mae": (8.0 + 0.5 * i) * scale * wobble, "csim": csim, "motion": motion + 0.01 * i * (motion > 0)}))
    return out


STATIC_CROSS = cross_faces(1.0, 0.9994, 0.0)
ANCHORS = anchors_of(STATIC_CROSS)


def made_up(aed=0.100, apd=30.0, mae=30.0, csim=0.80, motion=0.3):
    """The issue's made-up third run (AED 0.100, APD 30, MAE 30, CSIM 0.80)."""
    return [Face(f"single-cross-{i}", 0, {"aed": aed, "apd": apd, "mae": mae, "csim": csim, "motion": motion})
            for i in range(N)]


def board(tmp_path, name, runs, plots=False):
    folders = [write_run(tmp_path / name / f"{method}-{version}", method, {("single", "cross"): faces},
                         anchors=ANCHORS) for method, version, faces in runs]
    for folder, (_, version, _) in zip(folders, runs):
        (folder / "run.json").write_text(f'{{"method_version": "{version}"}}')
    return build_leaderboard(folders, tmp_path / name / "out", paper_table=None, plots=plots).out


def test_a_third_run_never_reorders_or_reties_two_others(tmp_path):
    two = [("static", "1", STATIC_CROSS), ("warp", "1", cross_faces(0.6, 0.97, 0.5)),
           ("warp", "1b", cross_faces(0.6, 0.97, 0.5, jitter=0.002))]
    before = ours(board(tmp_path, "two", two), "single")
    after = ours(board(tmp_path, "three", two + [("madeup", "1", made_up())]), "single")
    assert set(after) - set(before) == {("madeup", "1", "cross")}
    for key, row in before.items():
        for col in ("score", "score_ci_low", "score_ci_high", "aed_norm", "apd_norm", "mae_norm", "csim_norm",
                    "motion_norm"):
            assert after[key][col] == row[col], f"{key} {col} changed when an unrelated run was added"
    warp, warp_b, static = (before[("warp", "1", "cross")], before[("warp", "1b", "cross")],
                            before[("static", "1", "cross")])
    assert int(warp["rank"]) < int(static["rank"]) and int(warp_b["rank"]) < int(static["rank"])
    assert warp["rank"] == warp_b["rank"] and "warp 1b (unknown)" in warp["ties_with"], "near-identical runs tie"
    pairs = {(p["method_a"], p["method_version_a"], p["method_b"], p["method_version_b"]): p["verdict"]
             for p in read(tmp_path / "three" / "out" / PAIRS_CSV)}
    before_pairs = {k: v for k, v in pairs.items() if "madeup" not in (k[0], k[2])}
    assert before_pairs == {(p["method_a"], p["method_version_a"], p["method_b"], p["method_version_b"]): p["verdict"]
                            for p in read(tmp_path / "two" / "out" / PAIRS_CSV)}
    # the order and the ties of the two existing methods are the same with the made-up run on the board
    for a, b in ((warp, static), (warp_b, static), (warp, warp_b)):
        a2, b2 = after[(a["method"], a["method_version"], "cross")], after[(b["method"], b["method_version"], "cross")]
        assert np.sign(int(a["rank"]) - int(b["rank"])) == np.sign(int(a2["rank"]) - int(b2["rank"]))
    assert after[("madeup", "1", "cross")]["rank"] == "4", "the made-up run is worse than doing nothing"
    assert float(after[("madeup", "1", "cross")]["score"]) < 0


def test_a_static_run_scores_exactly_zero_on_static_anchored_metrics(tmp_path):
    faces = [Face(f"single-self-{i}", 0, {"psnr": 20.0 + i, "ssim": 0.7 + 0.01 * i, "lpips": 0.3 - 0.01 * i,
                                          "lmd": 0.01 + 0.001 * i, "mae": 3.0 + 0.2 * i, "csim_gap": 0.017,
                                          "motion": 0.0}) for i in range(N)]
    sets = {("single", "self"): {"fid": {"value": 80.0, "anchor": 80.0, "warnings": ["fewer than 2048 frames"]},
                                 "fvd": {"value": 400.0, "anchor": 400.0,
                                         "warnings": ["fewer than 100 videos: FVD varies with the sample"]}}}
    folder = write_run(tmp_path / "static", "static", {("single", "self"): faces}, anchors=anchors_of(faces),
                       sets=sets)
    out = build_leaderboard([folder], tmp_path / "out", paper_table=None, plots=False).out
    row = ours(out, "single")[("static", "test", "self")]
    for m in PROTOCOL.metrics:
        if "self" in m.ranked_modes and m.anchor == "static":
            assert row[f"{m.name}_norm"] == "0", f"{m.name}: doing nothing must score exactly 0"
    assert row["motion_norm"] == "0"
    assert float(row["csim_gap_norm"]) == pytest.approx((0.017 - 0.10) / (0.0 - 0.10))
    assert row["fvd"] == "400" and "fvd: fewer than 100 videos" in row["warnings"]
    assert "fid: fewer than 2048 frames" in row["warnings"]
    assert row["rank"] == "1" and row["rank_test"] == "paired bootstrap"
    page = (out / "index.html").read_text()
    assert "fewer than 100 videos" in page
    assert "fewer than 100 videos" in (out / "README.md").read_text()


MULTI = [f"multi-self-{k}" for k in range(4)]


def multi_faces(face0, face1, cov1=None):
    out = []
    for k, item in enumerate(MULTI):
        out.append(Face(item, 0, {"mae": face0[k], "motion": 0.5}))
        cov = {} if cov1 is None or k else {"mae": cov1}
        out.append(Face(item, 1, {"mae": face1[k], "motion": 0.5}, coverage=cov))
    return out


def test_closed_eyes_cannot_hand_static_a_gaze_win(tmp_path):
    # multi/self: the first item's right-hand portrait face has its eyes closed, so static (a copy of the
    # portrait) has gaze for one face of two there; warp moves the eyes and has gaze everywhere.
    static = multi_faces([1.998] * 4, [math.nan, 2.5, 2.5, 2.5])
    for f in static:
        f.values["motion"] = 0.0
    anchors = anchors_of(static)
    warp = multi_faces([1.5] * 4, [12.0, 2.0, 2.0, 2.0])
    blinker = multi_faces([1.5] * 4, [0.1, 2.0, 2.0, 2.0])  # kept only half the frames of a face, scored 0.1 there
    blinker_lost = multi_faces([1.5] * 4, [0.1, 2.0, 2.0, 2.0])
    blinker_lost[0] = Face(MULTI[0], 0, {"mae": 0.1, "motion": 0.5}, coverage={"mae": 0.5})
    folders = [write_run(tmp_path / m, m, {("multi", "self"): faces}, anchors=anchors)
               for m, faces in (("static", static), ("warp", warp), ("blinker", blinker_lost),
                                ("steady", blinker))]
    out = build_leaderboard(folders, tmp_path / "out", paper_table=None, plots=False).out
    rows = {k[0]: r for k, r in ours(out, "multi").items()}
    # v1's verdict: static's gaze mean over the one face it kept beats warp's over both
    assert float(rows["static"]["mae"]) < float(rows["warp"]["mae"])
    assert rows["static"]["mae_norm"] == "0"
    assert float(rows["warp"]["mae_norm"]) > 0, "on the faces both are measured on, warp's gaze is better"
    assert int(rows["warp"]["rank"]) < int(rows["static"]["rank"])
    faces = {(r["method"], r["item_id"], r["face"]): r for r in read(out / FACES_CSV)}
    for method in ("static", "warp"):  # no anchor for the closed-eyes face: left out for every method alike
        assert faces[(method, MULTI[0], "1")]["mae_norm"] == ""
    assert faces[("warp", MULTI[0], "1")]["mae"] == "12", "the raw value is still published"
    # a face kept in half its frames: the missing half takes the floor (-1), the kept half its own value;
    # flagged as lost, raw value shown
    lost = faces[("blinker", MULTI[0], "0")]
    kept = (0.1 - 1.998) / (0 - 1.998)
    assert float(lost["mae_norm"]) == pytest.approx(0.5 * kept + 0.5 * -1, abs=1e-5)
    assert lost["mae_lost"] == "1" and lost["mae"] == "0.1"
    assert rows["blinker"]["mae_faces_lost"] == "1" and rows["steady"]["mae_faces_lost"] == "0"
    assert rows["blinker"]["faces_lost"] == "1"
    assert float(rows["blinker"]["mae_norm"]) < float(rows["steady"]["mae_norm"]), "losing a face never helps"
    assert "1 lost" in (out / "index.html").read_text()


def test_unranked_and_apart_rows_say_why(tmp_path):
    runs = [write_run(tmp_path / "static", "static", {("single", "cross"): STATIC_CROSS}, anchors=ANCHORS),
            write_run(tmp_path / "warp", "warp", {("single", "cross"): cross_faces(0.6, 0.97, 0.5)}, anchors=ANCHORS),
            write_run(tmp_path / "other", "other", {("single", "cross"): cross_faces(0.5, 0.97, 0.6)},
                      anchors=ANCHORS, sha="c" * 64),
            write_run(tmp_path / "bare", "bare", {("single", "cross"): cross_faces(0.5, 0.97, 0.6)}),
            write_run(tmp_path / "part", "part", {("single", "cross"): cross_faces(0.5, 0.97, 0.6)[:4]},
                      anchors=ANCHORS, items_in_benchmark={("single", "cross"): N}),
            write_run(tmp_path / "nomotion", "nomotion",
                      {("single", "cross"): [Face(f.item, f.face, {k: v for k, v in f.values.items() if k != "motion"})
                                             for f in cross_faces(0.5, 0.97, 0.6)]}, anchors=ANCHORS)]
    out = build_leaderboard(runs, tmp_path / "out", paper_table=None, plots=False).out
    rows = {k[0]: r for k, r in ours(out, "single").items()}
    assert rows["warp"]["rank"] == "1" and rows["static"]["rank"] == "2"
    assert rows["other"]["rank"] == "" and "benchmark content differs" in rows["other"]["comparability"]
    assert rows["other"]["score"] != "", "a row listed apart still shows its own score"
    assert rows["bare"]["rank"] == "" and "no anchors" in rows["bare"]["comparability"]
    assert rows["bare"]["score"] == ""
    assert rows["part"]["rank"] == "" and "scored 4 of 6 items" in rows["part"]["comparability"]
    assert rows["nomotion"]["rank"] == "" and "lacks motion" in rows["nomotion"]["comparability"]
    assert rows["warp"]["comparability"].startswith("ranked (2 rows") and f"benchmark {SHA[:12]}" in rows["warp"]["comparability"]
    md = (out / "README.md").read_text()
    assert "benchmark content differs" in md and "Validation was not run" in md


def test_bootstrap_is_deterministic_and_paired(tmp_path):
    weights = resample_weights(5)
    idx = np.random.default_rng(PROTOCOL.ranking.bootstrap_seed).integers(
        0, 5, size=(PROTOCOL.ranking.bootstrap_resamples, 5))
    assert weights.shape == (2000, 5) and (weights.sum(axis=1) == 5).all()
    assert (weights[:, 2] == (idx == 2).sum(axis=1)).all(), "resamples come from the protocol's seed"
    runs = [("static", "1", STATIC_CROSS), ("warp", "1", cross_faces(0.6, 0.97, 0.5, jitter=0.2))]
    first = board(tmp_path, "a", runs, plots=True)
    second = board(tmp_path, "b", list(reversed(runs)), plots=True)
    assert (first / "plots" / "overview.png").stat().st_size > 10_000, "the overview plots the normalised values"
    for name in (csv_name("single"), PAIRS_CSV, FACES_CSV, "README.md", "index.html", "plots/overview.png"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    rows = ours(first, "single")
    warp = rows[("warp", "1", "cross")]
    lo, hi = float(warp["score_ci_low"]), float(warp["score_ci_high"])
    assert lo < float(warp["score"]) < hi
    assert float(warp["aed_ci_low"]) < float(warp["aed"]) < float(warp["aed_ci_high"])
    (pair,) = read(first / PAIRS_CSV)
    assert pair["verdict"] in ("a better", "b better") and float(pair["ci_low"]) * float(pair["ci_high"]) > 0


def test_too_few_items_are_ordered_but_untested(tmp_path):
    def two_items(faces):
        return [f for f in faces if f.item in ("single-cross-0", "single-cross-1")]
    anchors = anchors_of(two_items(STATIC_CROSS))
    runs = [write_run(tmp_path / m, m, {("single", "cross"): two_items(f)}, anchors=anchors)
            for m, f in (("static", STATIC_CROSS), ("warp", cross_faces(0.6, 0.97, 0.5)))]
    out = build_leaderboard(runs, tmp_path / "out", paper_table=None, plots=False).out
    rows = {k[0]: r for k, r in ours(out, "single").items()}
    assert rows["warp"]["rank"] == "1" and rows["static"]["rank"] == "2"
    assert {r["rank_test"] for r in rows.values()} == {"untested"}
    assert rows["warp"]["score_ci_low"] == "" and rows["warp"]["aed_ci_low"] == ""
    assert read(out / PAIRS_CSV)[0]["verdict"] == "untested (too few items)"


def test_normalise_value_follows_the_protocol():
    aed, csim, psnr = metric_protocol("aed"), metric_protocol("csim"), metric_protocol("psnr")
    assert normalise_value(aed, 0.05, 0.05) == 0.0 and normalise_value(aed, 0.0, 0.05) == 1.0
    assert normalise_value(aed, 0.025, 0.05) == pytest.approx(0.5)
    assert normalise_value(aed, 1.0, 0.05) == -1.0, "clipped at the floor"
    assert normalise_value(csim, 0.95, csim.worst) == pytest.approx(0.5)
    assert normalise_value(psnr, math.inf, 20.0) == 1.0, "an identical copy reaches the ideal"
    assert math.isnan(normalise_value(aed, 0.01, 0.001)), "an anchor within min_span of the ideal is left out"
    assert math.isnan(normalise_value(aed, 0.01, math.nan))


def _validation(path, rows):
    cols = ["metric", "ladder", "mode", "rungs", "spearman", "pairs_correct", "pairs_total", "passed", "note"]
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols)
        writer.writerows(rows)
    return path


def test_trust_section_renders_the_validation_report(tmp_path):
    run = write_run(tmp_path / "static", "static", {("single", "cross"): STATIC_CROSS}, anchors=ANCHORS)
    report = _validation(tmp_path / "validation.csv", [
        ["aed@v2", "strength", "cross", "0;0.25;0.5;0.75;1", "1.0", "4", "4", "true", ""],
        ["csim@v2", "identity", "cross", "portrait;driving", "0.5", "1", "2", "false", "stays above 0.9"]])
    out = build_leaderboard([run], tmp_path / "out", paper_table=None, plots=False, validation=report).out
    html = (out / "index.html").read_text()
    trust = html[html.index('id="trust"'):html.index("</section>", html.index('id="trust"'))]
    assert "Can these numbers be trusted?" in html and "1 of 2 checks passed" in trust
    assert "csim@v2 (identity, cross)" in trust and "aed@v2" in trust and "validation.csv" in trust
    assert str(tmp_path) not in html, "no machine paths on the page"
    assert "1 of 2 checks passed" in (out / "README.md").read_text()
    bare = build_leaderboard([run], tmp_path / "bare", paper_table=None, plots=False).out
    assert "Validation was not run" in (bare / "index.html").read_text()
    broken = tmp_path / "broken.csv"
    broken.write_text("metric,ladder\naed@v2,strength\n")
    with pytest.raises(InputError, match="lacks column"):
        build_leaderboard([run], tmp_path / "x", paper_table=None, plots=False, validation=broken)


def test_cli_passes_validation(tmp_path):
    from click.testing import CliRunner

    from exprbench.cli.leaderboard_cmd import leaderboard_cmd

    run = write_run(tmp_path / "static", "static", {("single", "cross"): STATIC_CROSS}, anchors=ANCHORS)
    report = _validation(tmp_path / "validation.csv",
                         [["mae@v2", "strength", "cross", "0;1", "0.95", "3", "3", "1", ""]])
    result = CliRunner().invoke(leaderboard_cmd, ["--out", str(tmp_path / "o"), "--no-plots", "--no-paper",
                                                  "--validation", str(report), str(run)])
    assert result.exit_code == 0, result.output
    assert "1 of 1 checks passed" in (tmp_path / "o" / "index.html").read_text()


def test_anchored_runs_without_coverage_or_anchor_columns_fail_loudly(tmp_path):
    import pandas as pd

    folder = write_run(tmp_path / "static", "static", {("single", "cross"): STATIC_CROSS}, anchors=ANCHORS)
    frame = pd.read_csv(folder / "per_item.csv")
    frame.drop(columns=["aed@v2_anchor"]).to_csv(folder / "per_item.csv", index=False)
    with pytest.raises(InputError, match=r"per_item.csv.*aed@v2_anchor"):
        build_leaderboard([folder], tmp_path / "out", paper_table=None, plots=False)
    frame.drop(columns=["mae@v2_coverage"]).to_csv(folder / "per_item.csv", index=False)
    with pytest.raises(InputError, match="mae@v2_coverage"):
        build_leaderboard([folder], tmp_path / "out", paper_table=None, plots=False)
