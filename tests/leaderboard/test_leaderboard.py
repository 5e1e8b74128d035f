"""The leaderboard: CSV schema, values traced back to eval's outputs, ranking against the benchmark's anchors
on real media, determinism, run identity, errors, and the page in a real headless Chromium (no console errors,
no network, sorting by a click, filters, screenshot).

One module on purpose: the real eval outputs it needs take about a minute to make, and pytest-xdist's
``--dist loadfile`` would make them once per module."""

import base64
import csv
import json
import math
import re
import shutil
from pathlib import Path

import pytest
from chromium_cdp import Chromium, find_chromium
from click.testing import CliRunner

from exprbench import __version__
from exprbench.anchors import attach_to_eval
from exprbench.cli.leaderboard_cmd import leaderboard_cmd
from exprbench.errors import InputError
from exprbench.leaderboard import (
    FACES_CSV,
    PAIRS_CSV,
    PAPER_SOURCE,
    PAPER_TABLE,
    build_leaderboard,
    csv_name,
    face_columns,
    leaderboard_columns,
    load_paper_table,
)
from exprbench.leaderboard.ranking import is_set_metric, ranked_metrics
from exprbench.protocol import PROTOCOL

PAPER_DOC = Path(__file__).resolve().parents[3] / "shared" / "docs" / "exprbench-paper.md"


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def ours(out):
    """Our rows of both split CSVs, by (split, mode, method)."""
    rows = {}
    for split in ("single", "multi"):
        for r in read_csv(out / csv_name(split))[1]:
            if r["source"] == "exprbench eval":
                rows[(r["split"], r["mode"], r["method"])] = r
    return rows


def expected_norm(m, value, coverage, anchor):
    """The protocol's per-face normalisation, restated: ``(v - a) / (ideal - a)`` clipped to [-1, 1] on the
    frames kept, the floor (-1) on the frames lost; None when the anchor cannot discriminate."""
    if anchor is None or not math.isfinite(anchor) or abs(m.ideal - anchor) == 0 or abs(m.ideal - anchor) < m.min_span:
        return None
    low, high = PROTOCOL.ranking.clip
    if value is None or math.isnan(value):
        return low
    c = min(max(0.0 if coverage is None or math.isnan(coverage) else coverage, 0.0), 1.0)
    n = min(max((value - anchor) / (m.ideal - anchor), low), high)
    return c * n + (1.0 - c) * low


def as_float(text):
    return math.nan if text in ("", "nan", "NaN") else float(text)


@pytest.fixture(scope="module")
def board(eval_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("board")
    result = build_leaderboard([eval_runs["truth"], eval_runs["static"]], out, run_by="ci")
    return out, result


def test_leaderboard_csv_schema(board, eval_runs):
    out, result = board
    assert {csv_name("single"), csv_name("multi"), FACES_CSV, PAIRS_CSV, "index.html", "README.md", "protocol.md",
            "plots/single-self.png", "plots/overview.png"} <= set(result.files)
    assert (out / "plots" / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", \
        "the benchmark has anchors: the overview of normalised values is drawn"
    assert csv_name("single") == f"exprbench-{PROTOCOL.version}-single.csv"
    metric_names = [m.name for m in PROTOCOL.metrics]
    for split in ("single", "multi"):
        header, rows = read_csv(out / csv_name(split))
        assert header == leaderboard_columns()
        assert len(rows) == result.rows[csv_name(split)]
        keys = [(r["source"], r["method"], r["method_version"], r["benchmark"], r["split"], r["mode"], r["protocol"],
                 r["run_by"]) for r in rows]
        assert len(set(keys)) == len(keys), "the key columns must identify a row"
        ours = [r for r in rows if r["source"] == "exprbench eval"]
        paper = [r for r in rows if r["source"] == PAPER_SOURCE]
        assert len(ours) + len(paper) == len(rows)
        assert {(r["method"], r["mode"]) for r in ours} == {(m, mode) for m in ("truth", "static")
                                                            for mode in ("self", "cross")}
        assert len(paper) == (12 if split == "single" else 4)
        for r in rows:
            assert r["split"] == split
            for m in PROTOCOL.metrics:
                cell = r[m.name]
                assert cell in ("", "inf") or is_number(cell), (m.name, cell)
                if r["mode"] not in m.modes:
                    assert cell == "" and r[f"{m.name}_coverage"] == "", f"{m.name} is not a {r['mode']} metric"
        for r in ours:
            assert r["protocol"] == PROTOCOL.version and r["benchmark"] == "mini" and r["run_by"] == "ci"
            assert r["method_version"] == __version__
            # one item per split and mode, all of them scored against the benchmark's anchors: ranked, untested
            assert r["rank"] in ("1", "2") and is_number(r["score"]) and r["rank_test"] == "untested"
            assert r["comparability"].startswith("ranked (2 rows, 1 items; benchmark ")
            assert r["benchmark_sha256"] and r["score_ci_low"] == "" and r["score_ci_high"] == ""
            assert int(r["items"]) == int(r["items_requested"]) == int(r["items_in_benchmark"]) == 1
            assert 0.0 <= float(r["coverage"]) <= 1.0
            for name in r["unavailable"].split(";") if r["unavailable"] else []:
                assert name in metric_names and r[name] == ""
        for r in paper:
            assert r["rank"] == "" and r["score"] == "", "paper rows are never ranked"
            assert r["protocol"] == "unspecified" and r["benchmark"] == "paper"
            assert "x10^-3" in r["note"] and r["items"] == ""
        # metric columns keep the protocol's order, each followed by its coverage
        assert header[header.index("fid"):header.index("fid") + 7] == [
            "fid", "fid_coverage", "fid_faces_lost", "fid_norm", "fid_ci_low", "fid_ci_high", "fvd"]
        assert [c for c in header if c in metric_names] == metric_names


def test_values_come_from_the_eval_summaries(board, eval_runs):
    out, _ = board
    for split in ("single", "multi"):
        _, rows = read_csv(out / csv_name(split))
        for r in (r for r in rows if r["source"] == "exprbench eval"):
            summary = json.loads((eval_runs[r["method"]] / "summary.json").read_text())
            block = summary["splits"][split][r["mode"]]
            assert int(r["items"]) == block["items"] and int(r["faces"]) == block["faces"]
            for m in PROTOCOL.metrics:
                entry = block["metrics"].get(m.key)
                if entry is None or entry.get("value") is None:
                    assert r[m.name] == ""
                elif entry["value"] == "inf":
                    assert r[m.name] == "inf"
                else:
                    assert float(r[m.name]) == pytest.approx(entry["value"], rel=1e-5)
    _, single = read_csv(out / csv_name("single"))
    truth_self = next(r for r in single if r["method"] == "truth" and r["mode"] == "self")
    assert truth_self["psnr"] == "inf", "a copy of the ground truth scores +inf PSNR, written as inf"
    assert truth_self["psnr_norm"] == "1", "+inf PSNR clips to the ideal"
    assert truth_self["rank"] == "1"


def test_per_face_csv_matches_per_item(board, eval_runs):
    out, _ = board
    header, rows = read_csv(out / FACES_CSV)
    assert header == face_columns()
    normalised = 0
    for method, folder in eval_runs.items():
        _, items = read_csv(folder / "per_item.csv")
        mine = {(r["split"], r["mode"], r["item_id"], r["face"]): r for r in rows if r["method"] == method}
        assert len(mine) == len(items), "one row per item and face of every split"
        for i in items:
            r = mine[(i["split"], i["mode"], i["item_id"], i["face"])]
            assert r["matched"] == ("1" if i["matched"] == "True" else "0")
            ranked = {m.name for m in ranked_metrics(i["mode"])}
            for key in (k for k in i if k.endswith(f"@{PROTOCOL.version}")):
                name = key.split("@")[0]
                m = PROTOCOL.metric(name)
                value = as_float(i[key])
                if math.isnan(value):
                    assert r[name] == ""
                else:
                    assert float(r[name]) == pytest.approx(value, rel=1e-5)
                anchor = as_float(i.get(f"{key}_anchor", "")) if m.anchor == "static" else float(m.worst)
                if m.anchor == "static" and not m.extra:
                    assert f"{key}_anchor" in i, f"the benchmark has anchors: per_item.csv carries {key}_anchor"
                    if math.isnan(anchor):
                        assert r[f"{name}_anchor"] == ""
                    else:
                        assert float(r[f"{name}_anchor"]) == pytest.approx(anchor, rel=1e-5)
                expected = expected_norm(m, value, as_float(i[f"{key}_coverage"]), anchor) if name in ranked else None
                if expected is None:
                    assert r[f"{name}_norm"] == "" and r[f"{name}_lost"] == "", f"{name} is not normalised here"
                    continue
                normalised += 1
                assert float(r[f"{name}_norm"]) == pytest.approx(expected, abs=1e-5), (method, i["item_id"], name)
                lost = math.isnan(value) or as_float(i[f"{key}_coverage"]) < PROTOCOL.coverage.min_coverage
                assert r[f"{name}_lost"] == ("1" if lost else "0")
    assert normalised >= 40, "most ranked face metrics of both runs are normalised"


def test_truth_ranks_above_static(board):
    """Ranks follow the score (one item per split and mode: no interval, the point estimate decides, labelled
    untested); the ground truth wins wherever its output has the portrait's faces."""
    out, _ = board
    rows = ours(out)
    _, pairs = read_csv(out / PAIRS_CSV)
    assert len(pairs) == 4 and {p["verdict"] for p in pairs} == {"untested (too few items)"}
    for split in ("single", "multi"):
        for mode in ("self", "cross"):
            truth, static = rows[(split, mode, "truth")], rows[(split, mode, "static")]
            first, second = sorted((truth, static), key=lambda r: -float(r["score"]))
            assert float(first["score"]) > float(second["score"])
            assert (first["rank"], second["rank"]) == ("1", "2"), (split, mode)
            assert first["ties_with"] == second["ties_with"] == ""
            pair = next(p for p in pairs if (p["split"], p["mode"]) == (split, mode))
            a = rows[(split, mode, pair["method_a"])]
            assert float(pair["difference"]) == pytest.approx(float(a["score"]) - float(rows[(
                split, mode, pair["method_b"])]["score"]), abs=2e-6)
            if (split, mode) != ("multi", "cross"):
                assert truth["rank"] == "1" and static["rank"] == "2", (split, mode)
    for split, mode in (("single", "self"), ("multi", "self"), ("single", "cross")):
        assert float(rows[(split, mode, "truth")]["score"]) > 0.6
    # multi/cross has no ground truth: "truth" returns the side-by-side driving clip, whose layout is not the
    # composite portrait's, so the portrait's left face is never found. It scores the floor on every ranked
    # metric (lost), which puts the frozen portrait above it: a lost face can only lower a standing.
    truth = rows[("multi", "cross", "truth")]
    assert truth["rank"] == "2" and truth["faces_matched"] == "0.5"
    _, faces = read_csv(out / FACES_CSV)
    left = next(f for f in faces if f["method"] == "truth" and f["mode"] == "cross" and f["split"] == "multi"
                and f["face"] == "0")
    assert left["matched"] == "0"
    used = [m.name for m in ranked_metrics("cross") if left[f"{m.name}_norm"] != ""]  # MAE: static has no gaze there
    assert len(used) >= 4 and all(left[f"{n}_norm"] == "-1" and left[f"{n}_lost"] == "1" for n in used)
    assert int(truth["faces_lost"]) == len(used), "one lost (face, metric) pair per used ranked metric"


def test_static_is_the_zero_of_its_own_anchors(board):
    """The anchors are static's own scores, so static normalises to exactly 0 on every static-anchored metric
    (faces it measured on every frame); fixed-anchor metrics (motion, CSIM) are not 0 by construction."""
    out, _ = board
    rows = ours(out)
    _, faces = read_csv(out / FACES_CSV)
    checked = 0
    for (split, mode, method), r in rows.items():
        if method != "static":
            continue
        for m in ranked_metrics(mode):
            if m.anchor != "static" or r[f"{m.name}_norm"] == "":
                continue
            if is_set_metric(m):  # FID, FVD where their weights are installed: one split value, its own anchor
                assert r[f"{m.name}_norm"] == "0", (split, m.name)
                continue
            mine = [f for f in faces if (f["method"], f["split"], f["mode"]) == ("static", split, mode)
                    and f[f"{m.name}_norm"] != ""]
            assert mine, (split, mode, m.name)
            for f in mine:
                assert f[m.name] == f[f"{m.name}_anchor"], "static is its own anchor"
                if f[f"{m.name}_coverage"] == "1":
                    assert f[f"{m.name}_norm"] == "0", (split, mode, f["item_id"], f["face"], m.name)
            if all(f[f"{m.name}_coverage"] == "1" for f in mine):
                assert r[f"{m.name}_norm"] == "0", (split, mode, m.name)
                checked += 1
    assert checked == 14, "PSNR, SSIM, LPIPS, LMD, MAE (self) and AED, APD (cross; gaze is not ranked there) in both splits"


def test_without_anchors_runs_are_listed_not_ranked(eval_runs, tmp_path):
    """The same two evals with their anchors detached (what eval writes for a benchmark without anchors):
    listed with the reason, nothing normalised, no overview."""
    folders = []
    for method, folder in sorted(eval_runs.items()):
        copy = tmp_path / method
        shutil.copytree(folder, copy)
        attach_to_eval(copy, None)
        folders.append(copy)
    result = build_leaderboard(folders, tmp_path / "out", run_by="ci")
    assert "plots/overview.png" not in result.files and "plots/single-self.png" in result.files
    rows = ours(result.out)
    assert len(rows) == 8
    for r in rows.values():
        assert r["rank"] == r["score"] == "" and "no anchors" in r["comparability"]
        assert all(r[f"{m.name}_norm"] == "" for m in PROTOCOL.metrics)
    _, faces = read_csv(result.out / FACES_CSV)
    assert all(f[f"{m.name}_norm"] == "" for f in faces for m in PROTOCOL.metrics if f"{m.name}_norm" in f)
    assert all(f[f"{m.name}_anchor"] == "" for f in faces for m in PROTOCOL.metrics if f"{m.name}_anchor" in f)


def _tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_rebuild_is_byte_identical(board, eval_runs, tmp_path):
    out, _ = board
    again = tmp_path / "again"
    build_leaderboard([eval_runs["static"], eval_runs["truth"]], again, run_by="ci")  # other order, other folder
    first, second = _tree(out), _tree(again)
    assert sorted(first) == sorted(second)
    assert any(name.endswith(".png") for name in first)
    for name in first:
        assert first[name] == second[name], f"{name} differs between two builds from the same runs"
    text = first["index.html"].decode()
    assert str(out) not in text and str(eval_runs["truth"]) not in text, "no machine paths in published files"


def test_paper_table_is_table_1_as_printed():
    rows = load_paper_table(PAPER_TABLE)
    assert len(rows) == 16 and {r.mode for r in rows} == {"self", "cross"}
    if not PAPER_DOC.is_file():
        pytest.skip(f"{PAPER_DOC} not present: cannot compare the copy with the paper's text")
    text = PAPER_DOC.read_text(encoding="utf-8")
    section = text[text.index("## 4. Table 1"):text.index("## 5.")]
    printed = [[c.strip().replace("**", "") for c in line.strip().strip("|").split("|")]
               for line in section.splitlines() if re.match(r"\| (Single|Multi) \|", line)]
    _, copy = read_csv(PAPER_TABLE)
    assert [list(r.values()) for r in copy] == printed


def test_run_json_wins_over_options_which_win_over_defaults(eval_runs, tmp_path):
    static = tmp_path / "static_run"
    shutil.copytree(eval_runs["static"], static)
    (static / "run.json").write_text(json.dumps({"method_version": "static-2", "run_by": "alice"}))
    out = build_leaderboard([eval_runs["truth"], static], tmp_path / "a", plots=False, paper_table=None,
                            method_versions={"static": "ignored", "truth": "truth-1"}, run_by="bob")
    _, rows = read_csv(out.out / csv_name("single"))
    ident = {(r["method"], r["method_version"], r["run_by"]) for r in rows}
    assert ident == {("static", "static-2", "alice"), ("truth", "truth-1", "bob")}
    default = build_leaderboard([eval_runs["truth"]], tmp_path / "b", plots=False, paper_table=None)
    _, rows = read_csv(default.out / csv_name("multi"))
    assert {(r["method_version"], r["run_by"]) for r in rows} == {(__version__, "unknown")}


def test_two_versions_of_one_method_are_two_rows(eval_runs, tmp_path):
    other = tmp_path / "static_v2"
    shutil.copytree(eval_runs["static"], other)
    (other / "run.json").write_text(json.dumps({"method_version": "2"}))
    result = build_leaderboard([eval_runs["static"], other], tmp_path / "out", plots=False, paper_table=None)
    _, rows = read_csv(result.out / csv_name("single"))
    assert sorted((r["method_version"], r["mode"]) for r in rows) == [(__version__, "cross"), (__version__, "self"),
                                                                      ("2", "cross"), ("2", "self")]
    # the same scores under two versions: the same score, so an (untested) tie, each naming the other
    assert {r["rank"] for r in rows} == {"1"}
    for mode in ("self", "cross"):
        scores = {r["score"] for r in rows if r["mode"] == mode}
        assert len(scores) == 1 and is_number(scores.pop())
    for r in rows:
        other = "2" if r["method_version"] == __version__ else __version__
        assert r["ties_with"] == f"static {other} (unknown)" and r["rank_test"] == "untested"


def test_bad_inputs_are_one_line_errors(eval_runs, tmp_path):
    with pytest.raises(InputError, match="same method, version"):
        build_leaderboard([eval_runs["static"], eval_runs["static"]], tmp_path / "o")
    with pytest.raises(InputError, match="summary.json"):
        build_leaderboard([tmp_path], tmp_path / "o")
    old = tmp_path / "old_protocol"
    shutil.copytree(eval_runs["static"], old)
    summary = json.loads((old / "summary.json").read_text())
    summary["protocol"] = "v0"
    (old / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(InputError, match="protocol v0"):
        build_leaderboard([old], tmp_path / "o")
    odd = tmp_path / "odd_record"
    shutil.copytree(eval_runs["static"], odd)
    (odd / "run.json").write_text(json.dumps({"who": "me"}))
    with pytest.raises(InputError, match="unknown key"):
        build_leaderboard([odd], tmp_path / "o")
    result = CliRunner().invoke(leaderboard_cmd, ["--out", str(tmp_path / "o"), "--method-version", "static"])
    assert isinstance(result.exception, InputError) and "NAME=VERSION" in str(result.exception)


def test_cli_takes_several_folders_after_one_runs(eval_runs, tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(leaderboard_cmd, ["--out", str(out), "--no-plots", "--run-by", "ci",
                                                  "--runs", str(eval_runs["truth"]), str(eval_runs["static"])])
    assert result.exit_code == 0, result.output
    assert f"{out / csv_name('single')}: 16 rows" in result.output
    _, rows = read_csv(out / csv_name("single"))
    assert {r["method"] for r in rows if r["source"] == "exprbench eval"} == {"truth", "static"}
    assert not (out / "plots").exists()


# ---- the page ---------------------------------------------------------------------------------------
WIDTH, HEIGHT = 1400, 1000


@pytest.fixture(scope="module")
def page_dir(board):
    return board[0]


def test_page_is_self_contained(page_dir):
    html = (page_dir / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html), "the page must not load anything from the network"
    for ref in re.findall(r"""(?:src|href)=["']([^"'#]+)["']""", html):
        assert (page_dir / ref).is_file(), f"{ref} is linked but was not written"
    assert 'class="paper"' in html and "not ranked" in html
    assert (page_dir / "protocol.md").read_text().startswith("# ExprBench scoring protocol")


def _rows(browser, table_id, column):
    """The visible rows of a table: method name and the sort value of ``column`` (a header label)."""
    return browser.evaluate(f"""(() => {{
        const table = document.getElementById({json.dumps(table_id)});
        const heads = Array.from(table.tHead.rows[0].cells)
            .map(th => th.textContent.replace(/[\\u2191\\u2193]/g, "").trim());
        const col = heads.indexOf({json.dumps(column)});
        return Array.from(table.tBodies[0].rows).filter(r => !r.hidden).map(r => [
            r.querySelector(".method").textContent, r.cells[col].getAttribute("data-v"), r.getAttribute("data-split")]);
    }})()""")


def _header_centre(browser, table_id, column):
    return browser.evaluate(f"""(() => {{
        const th = Array.from(document.getElementById({json.dumps(table_id)}).tHead.rows[0].cells)
            .find(c => c.textContent.replace(/[\\u2191\\u2193]/g, "").trim() === {json.dumps(column)});
        th.scrollIntoView({{block: "center"}});
        const box = th.getBoundingClientRect();
        return [box.left + box.width / 2, box.top + box.height / 2];
    }})()""")


def _as_number(value):
    return None if value in (None, "") else float(value)


def test_page_in_headless_chromium(page_dir, tmp_path):
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; `make test` installs it)")
    browser = Chromium(binary, tmp_path / "profile")
    try:
        browser.open_page(WIDTH, HEIGHT)
        browser.navigate((page_dir / "index.html").as_uri())
        assert browser.evaluate("document.title").startswith("ExprBench leaderboard")

        # a person clicks PSNR (higher is better): the first click sorts best first, the next reverses
        before = _rows(browser, "ranked-self", "PSNR")
        assert len(before) == 4
        browser.click(*_header_centre(browser, "ranked-self", "PSNR"))
        order = _rows(browser, "ranked-self", "PSNR")
        values = [_as_number(v) for _, v, _ in order]
        assert values == sorted(values, reverse=True) and values[0] == float("inf")
        assert order[0][0] == "truth", "the ground-truth copy has infinite PSNR and must come first"
        assert browser.evaluate("document.querySelector('#ranked-self th[aria-sort]').textContent").startswith("PSNR")
        browser.click(*_header_centre(browser, "ranked-self", "PSNR"))
        values = [_as_number(v) for _, v, _ in _rows(browser, "ranked-self", "PSNR")]
        assert values == sorted(values)

        # text columns sort too
        browser.click(*_header_centre(browser, "ranked-cross", "Method"))
        methods = [m for m, _, _ in _rows(browser, "ranked-cross", "Method")]
        assert methods == sorted(methods)

        # filters: multi only, then cross only (the self block disappears)
        browser.evaluate("""(() => { const s = document.getElementById('f-split'); s.value = 'multi';
            s.dispatchEvent(new Event('change')); })()""")
        assert {s for _, _, s in _rows(browser, "ranked-self", "PSNR")} == {"multi"}
        assert browser.evaluate("document.getElementById('ranked-self-empty').hidden") is True
        browser.evaluate("""(() => { const s = document.getElementById('f-mode'); s.value = 'cross';
            s.dispatchEvent(new Event('change')); })()""")
        assert browser.evaluate("document.querySelector('[data-block-mode=self]').hidden") is True
        assert browser.evaluate("document.querySelector('[data-block-mode=cross]').hidden") is False
        for select in ("f-split", "f-mode"):
            browser.evaluate(f"""(() => {{ const s = document.getElementById('{select}'); s.value = '';
                s.dispatchEvent(new Event('change')); }})()""")

        # every plot decoded
        broken = browser.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                                  ".map(i => i.src)")
        assert browser.evaluate("document.images.length") >= 2 and broken == []

        size = browser.send("Page.getLayoutMetrics")["cssContentSize"]
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                       "clip": {"x": 0, "y": 0, "width": WIDTH,
                                                                "height": size["height"], "scale": 1}})
        path = tmp_path / "leaderboard.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 50_000
        print(f"screenshot: {path}")

        assert browser.errors() == [], "the page logged errors"
        foreign = [u for u in browser.requested_urls() if not u.startswith(("file:", "data:", "about:"))]
        assert foreign == [], "the page requested something from the network"
    finally:
        browser.close()
