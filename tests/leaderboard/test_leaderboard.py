"""The leaderboard: CSV schema, values traced back to eval's outputs, determinism, run identity, errors, and
the page in a real headless Chromium (no console errors, no network, sorting by a click, filters, screenshot).

One module on purpose: the real eval outputs it needs take about a minute to make, and pytest-xdist's
``--dist loadfile`` would make them once per module."""

import base64
import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from chromium_cdp import Chromium, find_chromium
from click.testing import CliRunner

from exprbench import __version__
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


@pytest.fixture(scope="module")
def board(eval_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("board")
    result = build_leaderboard([eval_runs["truth"], eval_runs["static"]], out, run_by="ci")
    return out, result


def test_leaderboard_csv_schema(board, eval_runs):
    out, result = board
    assert {csv_name("single"), csv_name("multi"), FACES_CSV, PAIRS_CSV, "index.html", "README.md", "protocol.md",
            "plots/single-self.png"} <= set(result.files)
    assert "plots/overview.png" not in result.files, "the overview shows normalised values: none without anchors"
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
            # the mini benchmark made here has no anchors: listed, never ranked, and the row says why
            assert r["rank"] == "" and r["score"] == "" and "no anchors" in r["comparability"]
            assert 1 <= int(r["items"]) <= int(r["items_requested"])
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
    # ranking needs anchors (test_ranking.py); without them the ground truth is listed, not ranked
    assert truth_self["rank"] == "" and "no anchors" in truth_self["comparability"]


def test_per_face_csv_matches_per_item(board, eval_runs):
    out, _ = board
    header, rows = read_csv(out / FACES_CSV)
    assert header == face_columns()
    for method, folder in eval_runs.items():
        _, items = read_csv(folder / "per_item.csv")
        mine = {(r["split"], r["mode"], r["item_id"], r["face"]): r for r in rows if r["method"] == method}
        assert len(mine) == len(items), "one row per item and face of every split"
        for i in items:
            r = mine[(i["split"], i["mode"], i["item_id"], i["face"])]
            assert r["matched"] == ("1" if i["matched"] == "True" else "0")
            for key in (k for k in i if k.endswith(f"@{PROTOCOL.version}")):
                name = key.split("@")[0]
                if i[key] in ("", "nan"):
                    assert r[name] == ""
                else:
                    assert float(r[name]) == pytest.approx(float(i[key]), rel=1e-5)
                assert r[f"{name}_norm"] == "", "no anchors: nothing is normalised"


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
    assert {r["rank"] for r in rows} == {""}, "no anchors: listed, not ranked (ties: test_ranking.py)"


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
