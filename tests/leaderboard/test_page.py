"""The leaderboard page in a real headless Chromium: loads with no console errors and no network,
sorts when a person clicks a header, filters, and is saved as a screenshot."""

import base64
import json
import re

import pytest
from chromium_cdp import Chromium, find_chromium

from exprbench.leaderboard import build_leaderboard

WIDTH, HEIGHT = 1400, 1000


@pytest.fixture(scope="module")
def page_dir(eval_runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("page")
    build_leaderboard([eval_runs["truth"], eval_runs["static"]], out, run_by="ci")
    return out


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
        const heads = Array.from(table.tHead.rows[0].cells).map(th => th.textContent.replace(/[\\u2191\\u2193]/g, "").trim());
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
