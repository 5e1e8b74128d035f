"""The leaderboard's static page (``index.html``) and its Markdown table (``README.md``).

The page is one self-contained file: inline CSS and JS, plots as relative PNGs, no network. The
table is rendered here, in HTML, so it reads without JavaScript; the script only sorts (click a
header: a metric column sorts best-first on the first click) and filters by split, mode and
benchmark. Our runs, the per-face detail and the paper's rows are three separate tables, so the
paper's numbers can never be sorted in among ours.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from exprbench import __version__
from exprbench.leaderboard.paper import PAPER_SCALE
from exprbench.leaderboard.plots import arrow
from exprbench.leaderboard.table import (
    MODES,
    SPLITS,
    Entry,
    FaceEntry,
    display,
    face_metrics,
    fmt,
    metrics,
)
from exprbench.leaderboard.validation import Validation
from exprbench.protocol import PROTOCOL, MetricProtocol

_DIRECTION_WORDS = {"lower": "lower is better", "higher": "higher is better"}

_CSS = """
:root { --ink:#1d2430; --muted:#5b6575; --line:#dfe3ea; --band:#f6f8fb; --accent:#2f5f98; --best:#1f7a3a;
  --paper:#b7791f; --paper-bg:#fff8eb; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; color:var(--ink);
  background:#fff; }
main { max-width:1480px; margin:0 auto; padding:24px 28px 48px; }
h1 { font-size:26px; margin:0 0 4px; }
h3 { font-size:15px; margin:20px 0 0; color:var(--muted); font-weight:600; }
h2 { font-size:19px; margin:36px 0 6px; padding-bottom:4px; border-bottom:2px solid var(--line); }
p { margin:6px 0; max-width:75ch; }
.sub, .hint, footer { color:var(--muted); }
.hint { font-size:13px; }
a { color:var(--accent); }
.filters { position:sticky; top:0; z-index:3; display:flex; flex-wrap:wrap; gap:18px; align-items:center;
  background:#fff; padding:10px 0; border-bottom:1px solid var(--line); margin-top:12px; }
.filters label { font-weight:600; font-size:14px; }
.filters select { margin-left:6px; font:inherit; padding:3px 6px; border:1px solid #c5ccd8; border-radius:5px; }
.scroll { overflow-x:auto; border:1px solid var(--line); border-radius:8px; margin-top:10px; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { padding:6px 9px; text-align:left; white-space:nowrap; border-bottom:1px solid var(--line); }
thead th { background:var(--band); font-weight:600; cursor:pointer; user-select:none; position:relative; }
thead th:hover, thead th:focus { background:#e8eef7; outline:none; }
th .dir { color:var(--accent); font-weight:700; margin-left:2px; }
th[aria-sort]::after { content:""; margin-left:6px; font-size:11px; color:var(--muted); }
th[aria-sort="ascending"]::after { content:"\\25B2"; }
th[aria-sort="descending"]::after { content:"\\25BC"; }
table.wrap td { white-space:normal; vertical-align:top; }
table.wrap td:last-child { min-width:320px; font-size:13px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tbody tr:nth-child(even) { background:#fbfcfd; }
tbody tr:hover { background:#eef4fb; }
td.best { color:var(--best); font-weight:700; }
td.na { color:#b3bac6; }
td.nm { color:var(--muted); font-style:italic; }
td small { color:var(--muted); font-weight:400; margin-left:4px; }
td.rank { font-weight:700; }
.tie { color:var(--accent); font-weight:700; }
.warn { color:#b45309; font-weight:700; margin-left:3px; cursor:help; }
.lost { display:inline-block; font-size:11px; font-weight:700; color:#fff; background:#b5485d; padding:0 6px;
  border-radius:8px; margin-left:4px; }
td.status { white-space:normal; min-width:260px; font-size:12px; color:var(--muted); }
tr.apart td { background:#fff6f6; }
td.fail { color:#b5485d; font-weight:700; }
td.pass { color:var(--best); font-weight:700; }
.method { font-weight:600; }
.tag { display:inline-block; font-size:12px; padding:0 7px; border-radius:10px; background:var(--band);
  border:1px solid var(--line); color:var(--muted); }
section.paper { background:var(--paper-bg); border-left:5px solid var(--paper); padding:4px 18px 14px;
  border-radius:0 8px 8px 0; margin-top:36px; }
section.paper h2 { border-bottom-color:#f0d9a8; margin-top:12px; }
section.paper .scroll { background:#fff; }
.badge { display:inline-block; font-size:12px; font-weight:700; color:#fff; background:var(--paper);
  padding:1px 8px; border-radius:10px; margin-left:8px; vertical-align:middle; }
.empty { color:var(--muted); font-style:italic; padding:8px 2px; }
figure { margin:18px 0; }
figure img { max-width:100%; height:auto; border:1px solid var(--line); border-radius:6px; }
figcaption { color:var(--muted); font-size:13px; }
dl { display:grid; grid-template-columns:max-content 1fr; gap:4px 14px; font-size:14px; }
dt { font-weight:600; }
dd { margin:0; }
footer { margin-top:40px; font-size:13px; border-top:1px solid var(--line); padding-top:10px; }
"""

_JS = """
(function () {
  "use strict";
  function valueOf(cell, type) {
    var raw = cell.getAttribute("data-v");
    if (type === "num") {
      if (raw === null || raw === "") { return null; }
      if (raw === "inf") { return Infinity; }
      if (raw === "-inf") { return -Infinity; }
      return parseFloat(raw);
    }
    return (raw !== null ? raw : cell.textContent).toLowerCase();
  }
  function sortBy(table, col, ascending) {
    var body = table.tBodies[0];
    var head = table.tHead.rows[0].cells[col];
    var type = head.getAttribute("data-type");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = valueOf(a.cells[col], type), y = valueOf(b.cells[col], type);
      if (x === null && y === null) { return 0; }
      if (x === null) { return 1; }   /* missing values stay last in both directions */
      if (y === null) { return -1; }
      if (x < y) { return ascending ? -1 : 1; }
      if (x > y) { return ascending ? 1 : -1; }
      return 0;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      function activate() {
        var current = th.getAttribute("aria-sort");
        var ascending = current ? current !== "ascending" : th.getAttribute("data-dir") !== "higher";
        sortBy(table, col, ascending);
      }
      th.addEventListener("click", activate);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); activate(); }
      });
    });
  });
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  function applyFilters() {
    var want = {};
    selects.forEach(function (s) { want[s.getAttribute("data-filter")] = s.value; });
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      var shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var keep = Object.keys(want).every(function (key) {
          var have = row.getAttribute("data-" + key);
          return !want[key] || have === null || have === want[key];
        });
        row.hidden = !keep;
        if (keep) { shown += 1; }
      });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
        var modes = th.getAttribute("data-modes");
        var hide = Boolean(modes && want.mode && modes.split(" ").indexOf(want.mode) < 0);
        th.hidden = hide;
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) { row.cells[col].hidden = hide; });
      });
      var empty = document.getElementById(table.id + "-empty");
      if (empty) { empty.hidden = shown > 0; }
    });
  }
  function applyBlocks() {
    var mode = document.getElementById("f-mode").value;
    Array.prototype.forEach.call(document.querySelectorAll("[data-block-mode]"), function (block) {
      block.hidden = Boolean(mode) && block.getAttribute("data-block-mode") !== mode;
    });
  }
  selects.forEach(function (s) {
    s.addEventListener("change", applyFilters);
    s.addEventListener("change", applyBlocks);
  });
  applyBlocks();
  applyFilters();
}());
"""


def _metric_head(m: MetricProtocol, label: str = "", note: str = "", modes: str | None = None) -> str:
    title = f"{m.title} ({m.unit}), {_DIRECTION_WORDS[m.direction]}{note}"
    data_modes = f' data-modes="{modes}"' if modes else ""
    return (f'<th class="num" data-type="num" data-dir="{m.direction}"{data_modes} title="{escape(title)}">'
            f'{escape(label or m.name.upper())}<span class="dir">{arrow(m.direction)}</span></th>')


def _text_head(label: str, title: str = "", numeric: bool = False) -> str:
    cls = ' class="num"' if numeric else ""
    tip = f' title="{escape(title)}"' if title else ""
    return f'<th{cls} data-type="{"num" if numeric else "text"}"{tip}>{escape(label)}</th>'


def _score(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.3f}"


def _num_cell(value: float | None, text: str | None = None, cls: str = "num") -> str:
    shown = fmt(value) if text is None else text
    return f'<td class="{cls}" data-v="{escape(fmt(value))}">{escape(shown) if shown else "&ndash;"}</td>'


def _percent(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{100 * value:.0f}%"


def _metric_cell(value: float | None, coverage: float | None = None, printed: str | None = None,
                 unavailable: bool = False, modes: str | None = None, lost: int | None = None,
                 warnings: tuple[str, ...] = (), norm: float | None = None,
                 ci: tuple[float, float] | None = None) -> str:
    """A raw value with what qualifies it next to it: coverage below 100%, lost faces, set-metric warnings;
    the normalised value and the interval are in the tooltip."""
    data_modes = f' data-modes="{modes}"' if modes else ""
    if unavailable:
        return (f'<td class="num nm"{data_modes} data-v="" title="metric unavailable on the machine that ran '
                f'eval (its weights were not installed)">unavailable</td>')
    flags = ""
    if lost:
        flags += (f'<span class="lost" title="{lost} face(s) below {_percent(PROTOCOL.coverage.min_coverage)} '
                  f'coverage: scored as lost (-1) in the ranking">{lost} lost</span>')
    if warnings:
        flags += f'<span class="warn" title="{escape("; ".join(warnings))}">&#9888; {escape(warnings[0])}</span>'
    if value is None or math.isnan(value):
        return (f'<td class="num nm"{data_modes} data-v="" title="not measured: no face found in any scored '
                f'frame">n/a{flags}</td>')
    text = printed if printed is not None else display(value)
    extra = ""
    if coverage is not None and not math.isnan(coverage) and coverage < 1.0:
        extra = f'<small title="frame-weighted coverage">{_percent(coverage)}</small>'
    tip = fmt(value)
    if norm is not None and not math.isnan(norm):
        tip += f"; normalised {norm:.3f} (0 = anchor, 1 = ideal)"
    if ci is not None and not any(math.isnan(c) for c in ci):
        tip += f"; {_percent(PROTOCOL.ranking.confidence)} interval {display(ci[0])} to {display(ci[1])}"
    return (f'<td class="num"{data_modes} data-v="{escape(fmt(value))}" title="{escape(tip)}">'
            f"{escape(text)}{extra}{flags}</td>")


def _row_attrs(split: str, mode: str | None, benchmark: str | None) -> str:
    attrs = f'data-split="{escape(split)}"'
    attrs += f' data-mode="{escape(mode)}"' if mode is not None else ""
    return attrs + (f' data-benchmark="{escape(benchmark)}"' if benchmark is not None else "")


def _mode_metrics(mode: str, among: tuple[MetricProtocol, ...]) -> list[MetricProtocol]:
    return [m for m in among if mode in m.modes]


def _measured(names: list[MetricProtocol], values: list[dict[str, float]]) -> tuple[list[MetricProtocol], str]:
    """Drop metrics no row has a value for (e.g. FID where its weights were not installed): a column of
    blanks only pushes the others off screen. Returns the kept metrics and a note naming the dropped."""
    kept = [m for m in names if any(not math.isnan(v.get(m.name, math.nan)) for v in values)]
    dropped = [m.name.upper() for m in names if m not in kept]
    note = (f'<p class="hint">Not measured in any of these runs: {escape(", ".join(dropped))} (unavailable where '
            "eval ran, or no face found).</p>") if dropped and values else ""
    return kept, note


def _rank_text(e: Entry) -> str:
    if e.rank is None:
        return ""
    return f"{e.rank}=" if e.ties_with else str(e.rank)


def _rank_cell(e: Entry) -> str:
    if e.rank is None:
        return '<td class="num rank nm" data-v="" title="not ranked: see the status column">&ndash;</td>'
    tip = (f"tied with {', '.join(e.ties_with)} (paired {_percent(PROTOCOL.ranking.confidence)} interval of the "
           "score difference contains 0)" if e.ties_with else "no tie")
    if e.rank_test != "paired bootstrap":
        tip += "; untested: too few items for an interval, ordered by the point estimate"
    label = f'{e.rank}<span class="tie">=</span>' if e.ties_with else str(e.rank)
    return f'<td class="num rank" data-v="{e.rank}" title="{escape(tip)}">{label}</td>'


def _score_cell(e: Entry) -> str:
    if math.isnan(e.score):
        return '<td class="num nm" data-v="">&ndash;</td>'
    lo, hi = e.score_ci
    interval = "" if math.isnan(lo) else f"<small>[{lo:.3f}, {hi:.3f}]</small>"
    return f'<td class="num" data-v="{escape(fmt(e.score))}">{_score(e.score)}{interval}</td>'


def _ranked_table(ours: list[Entry], mode: str) -> str:
    rows = [e for e in ours if e.mode == mode]
    names, note = _measured(_mode_metrics(mode, metrics()), [e.values for e in rows])
    conf = _percent(PROTOCOL.ranking.confidence)
    heads = [_text_head("Rank", "1 + the number of rows significantly better (paired bootstrap); '=' marks a tie",
                        True),
             _text_head("Method"), _text_head("Version"), _text_head("Benchmark"), _text_head("Split"),
             _text_head("Run by"), _text_head("Items", "items scored / items of the split and mode in the benchmark",
                                              True),
             _text_head("Coverage", "frame-weighted share of frames where each face was found", True)]
    heads += [_metric_head(m, note="" if mode in m.ranked_modes else "; shown, not ranked in this mode")
              for m in names]
    heads += [_text_head("Score", f"mean normalised ranked metric (0 = anchor, 1 = ideal), {conf} interval", True),
              _text_head("Ties with", "rows whose paired interval of the score difference contains 0"),
              _text_head("Status", "how the row was ranked, or why it was not")]
    body = []
    for e in rows:
        cells = [_rank_cell(e),
                 f'<td class="method">{escape(e.method)}</td>', f"<td>{escape(e.method_version)}</td>",
                 f'<td><span class="tag">{escape(e.benchmark)}</span></td>', f"<td>{escape(e.split)}</td>",
                 f"<td>{escape(e.run_by)}</td>",
                 _num_cell(e.items, f"{fmt(e.items)} / {fmt(e.items_in_benchmark) or '?'}"),
                 _num_cell(e.coverage, _percent(e.coverage))]
        cells += [_metric_cell(e.values.get(m.name), e.coverage_by_metric.get(m.name),
                               unavailable=m.name in e.unavailable, lost=e.faces_lost_by_metric.get(m.name),
                               warnings=e.warnings.get(m.name, ()), norm=e.norm.get(m.name), ci=e.ci.get(m.name))
                  for m in names]
        cells += [_score_cell(e), f"<td>{escape(', '.join(e.ties_with)) or '&ndash;'}</td>",
                  f'<td class="status">{escape(e.comparability)}</td>']
        apart = ' class="apart"' if e.rank is None else ""
        body.append(f"<tr{apart} {_row_attrs(e.split, e.mode, e.benchmark)}>{''.join(cells)}</tr>")
    return _table(f"ranked-{mode}", heads, body) + note


def _faces_table(faces: list[FaceEntry], mode: str) -> str:
    rows = [f for f in faces if f.mode == mode and f.key["split"] == "multi"]
    names, note = _measured(_mode_metrics(mode, face_metrics()),
                            [{m.name: (f.cells.get(m.name) if f.cells.get(m.name) is not None else math.nan)
                              for m in face_metrics()} for f in rows])
    heads = [_text_head("Method"), _text_head("Version"), _text_head("Benchmark"), _text_head("Run by"),
             _text_head("Item"), _text_head("Face", "face position, left to right from 0", True),
             _text_head("Matched", "whether this face was found in the generated video"),
             _text_head("Coverage", "share of the item's frames where this face was found", True)]
    heads += [_metric_head(m) for m in names]
    body = []
    for f in rows:
        cells = [f'<td class="method">{escape(f.key["method"])}</td>', f"<td>{escape(f.key['method_version'])}</td>",
                 f'<td><span class="tag">{escape(f.key["benchmark"])}</span></td>',
                 f"<td>{escape(f.key['run_by'])}</td>", f"<td>{escape(f.item_id)}</td>", _num_cell(f.face),
                 f"<td>{'yes' if f.matched == '1' else 'no'}</td>", _num_cell(f.coverage, _percent(f.coverage))]
        for m in names:
            value = f.cells.get(m.name)
            cells.append(_metric_cell(math.nan if value is None else value, f.cells.get(f"{m.name}_coverage"),
                                      lost=1 if f.cells.get(f"{m.name}_lost") else None,
                                      norm=f.cells.get(f"{m.name}_norm")))
        body.append(f"<tr {_row_attrs('multi', mode, f.key['benchmark'])}>{''.join(cells)}</tr>")
    return _table(f"faces-{mode}", heads, body) + note


def _paper_table(paper: list[Entry]) -> str:
    """Table 1's own layout: one row per split and method, self-reenactment then cross-reenactment columns."""
    columns = [(mode, m) for mode in MODES for m in metrics()
               if any(e.mode == mode and m.name in e.printed for e in paper)]
    heads = [_text_head("Method"), _text_head("Split")]
    heads += [_metric_head(m, f"{m.name.upper()} {mode}",
                           f"; {mode}-reenactment" + (f"; printed x{PAPER_SCALE[m.name]}" if m.name in PAPER_SCALE
                                                      else ""), modes=mode) for mode, m in columns]
    by_row: dict[tuple[str, str], dict[str, Entry]] = {}
    for e in paper:
        by_row.setdefault((e.split, e.method), {})[e.mode] = e
    body = []
    for (split, method), modes in by_row.items():
        cells = [f'<td class="method">{escape(method)}</td>', f"<td>{escape(split)}</td>"]
        for mode, m in columns:
            e = modes.get(mode)
            if e is None or m.name not in e.printed:
                cells.append(f'<td class="num nm" data-modes="{mode}" data-v="">not reported</td>')
            else:
                cells.append(_metric_cell(e.values[m.name], printed=e.printed[m.name], modes=mode))
        body.append(f"<tr {_row_attrs(split, None, None)}>{''.join(cells)}</tr>")
    return _table("paper", heads, body)


def _table(table_id: str, heads: list[str], body: list[str]) -> str:
    rows = "\n".join(body)
    return (f'<div class="scroll"><table id="{table_id}" class="sortable"><thead><tr>{"".join(heads)}</tr></thead>'
            f"<tbody>\n{rows}\n</tbody></table></div>"
            f'<p class="empty" id="{table_id}-empty" hidden>No rows match the filters.</p>')


_MODE_TITLES = {"self": "Self-reenactment: against the ground truth",
                "cross": "Cross-reenactment: another person's driving video, no ground truth"}


def _blocks(table: Callable[[str], str]) -> str:
    """One table per mode (their metrics differ); the mode filter hides a whole block."""
    return "\n".join(f'<div class="block" data-block-mode="{mode}"><h3>{escape(_MODE_TITLES[mode])}</h3>'
                     f"{table(mode)}</div>" for mode in MODES)


def _select(name: str, label: str, options: list[str]) -> str:
    items = "".join(f'<option value="{escape(o)}">{escape(o)}</option>' for o in options)
    return (f'<label for="f-{name}">{escape(label)}<select id="f-{name}" data-filter="{name}">'
            f'<option value="">all</option>{items}</select></label>')


def _protocol_section() -> str:
    rows = "".join(
        f"<tr><td><code>{escape(m.key)}</code></td><td>{escape(m.title)}</td>"
        f"<td>{arrow(m.direction)} {escape(_DIRECTION_WORDS[m.direction])}</td><td>{escape(', '.join(m.modes))}</td>"
        f"<td>{escape(m.unit)}</td><td>{escape(m.extractor)}</td></tr>" for m in metrics())
    return f"""<section id="protocol"><h2>How the numbers are made</h2>
<p>Every number in the ranked tables comes from <code>exprbench eval</code> under scoring protocol
<strong>{escape(PROTOCOL.version)}</strong>: the feature networks, crops, resizing, frame pairing and reductions
are fixed and versioned, and every result key carries the version
(e.g. <code>{escape(PROTOCOL.metric("fid").key)}</code>).
The full protocol is in <a href="protocol.md">protocol.md</a>.</p>
<dl>
<dt>Self mode</dt><dd>the portrait is the first frame of the driving video, which is the ground truth.</dd>
<dt>Cross mode</dt><dd>a portrait is driven by another person's video; there is no ground truth.</dd>
<dt>Missing values</dt><dd>{escape(PROTOCOL.nan_policy)}. A small percentage after a value is that coverage.</dd>
<dt>Multi items</dt><dd>{escape(PROTOCOL.multi_items)}.</dd>
<dt>Score</dt><dd>{escape(PROTOCOL.ranking.normalisation)}. {escape(PROTOCOL.ranking.score)}.</dd>
<dt>Lost faces</dt><dd>{escape(PROTOCOL.coverage.lost_face)}. A red "lost" badge marks them.</dd>
<dt>Rank and ties</dt><dd>{escape(PROTOCOL.ranking.significance)} ({PROTOCOL.ranking.bootstrap_resamples}
resamples, seed {PROTOCOL.ranking.bootstrap_seed}). The rank is 1 + the number of rows significantly better, so
a row added later cannot change whether two others tie; "=" marks a tie.</dd>
<dt>Comparability</dt><dd>{escape(PROTOCOL.ranking.comparable)}; the status column says which.</dd>
</dl>
<div class="scroll"><table class="wrap"><thead><tr><th>key</th><th>metric</th><th>better</th><th>modes</th><th>unit</th>
<th>extractor</th></tr></thead><tbody>{rows}</tbody></table></div></section>"""


def _trust_section(validation: Validation | None) -> str:
    """"Can these numbers be trusted?": the validation report as given, or a plain statement that none ran."""
    head = '<section id="trust"><h2>Can these numbers be trusted?</h2>'
    if validation is None:
        return (head + '<p class="empty">Validation was not run for this build: nothing here shows that each '
                "metric orders outputs of known quality correctly on this benchmark. Run <code>exprbench validate "
                "--bench BENCH --out DIR</code> and rebuild with <code>exprbench leaderboard --validation "
                "DIR/validation.csv</code>.</p></section>")
    failed = validation.failed
    verdict = (f"{len(validation.checks) - len(failed)} of {len(validation.checks)} checks passed"
               + (f"; failing: {', '.join(sorted({f'{c.metric} ({c.ladder}, {c.mode})' for c in failed}))}"
                  if failed else ""))
    heads = [_text_head("Metric"), _text_head("Ladder"), _text_head("Mode"), _text_head("Rungs"),
             _text_head("Spearman", "rank correlation of rung order and metric value, direction-aware (1 = perfect)",
                        True),
             _text_head("Pairs right", "adjacent rung pairs ordered right, paired per item", True),
             _text_head("Passed")]
    body = []
    for c in validation.checks:
        ok = "pass" if c.passed else "fail"
        body.append(f"<tr><td><code>{escape(c.metric)}</code></td><td>{escape(c.ladder)}</td>"
                    f"<td>{escape(c.mode)}</td><td>{escape(c.rungs)}</td>{_num_cell(c.spearman)}"
                    f"{_num_cell(c.pairs_correct, f'{c.pairs_correct} / {c.pairs_total}')}"
                    f'<td class="{ok}">{"yes" if c.passed else "NO"}</td></tr>')
    return (head + "<p>From <code>" + escape(validation.source) + "</code> (<code>exprbench validate</code>): each "
            "metric scored on controlled ladders of known quality built from the benchmark's own items. "
            f"<strong>{escape(verdict)}</strong>. A metric that fails a ladder does not order that kind of "
            "difference reliably; read its column with that in mind.</p>"
            + _table("validation", heads, body) + "</section>")


def render_html(entries: list[Entry], faces: list[FaceEntry], plots: list[tuple[str, str]],
                csv_files: list[str], n_runs: int, validation: Validation | None = None) -> str:
    """The whole page. ``plots``: (relative path, caption); ``csv_files``: relative paths to link."""
    ours = [e for e in entries if not e.is_paper]
    paper = [e for e in entries if e.is_paper]
    benchmarks = sorted({e.benchmark for e in ours})
    filters = (_select("split", "Split", list(SPLITS)) + _select("mode", "Mode", list(MODES))
               + _select("benchmark", "Benchmark", benchmarks))
    figures = "\n".join(f'<figure><img src="{escape(src)}" alt="{escape(caption)}"><figcaption>{escape(caption)}'
                        f"</figcaption></figure>" for src, caption in plots)
    downloads = ", ".join(f'<a href="{escape(f)}">{escape(f)}</a>' for f in csv_files)
    scale = ", ".join(f"{k.upper()} x{v}" for k, v in PAPER_SCALE.items())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ExprBench leaderboard (protocol {escape(PROTOCOL.version)})</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<h1>ExprBench leaderboard</h1>
<p class="sub">Portrait animation, single and multi-character. Protocol {escape(PROTOCOL.version)} &middot;
{n_runs} run(s) &middot; benchmark(s): {escape(", ".join(benchmarks) or "none")} &middot; data: {downloads}</p>
<p class="hint">Click a column header to sort (a metric sorts best-first; click again to reverse).
<span class="dir">&darr;</span> lower is better, <span class="dir">&uarr;</span> higher is better.
"1=" is a tie: the paired bootstrap cannot tell the rows apart. &#9888; marks a set-metric warning, a red badge
lost faces, a small percentage coverage below 100%; hover a value for its normalised value and interval.</p>
</header>
<nav class="filters" aria-label="filters">{filters}</nav>
<section id="ours"><h2>Ranked runs</h2>
<p>One row per method, benchmark, split and mode, scored by <code>exprbench eval</code>. Each metric is
normalised against the benchmark's own anchors (the static baseline, or a fixed worst value), never against the
other rows, so adding a run changes no other row's score. Rows are ranked only against rows of the same
benchmark content, anchors, protocol, items and ranked metrics; others are listed with the reason.</p>
{_blocks(lambda mode: _ranked_table(ours, mode))}
</section>
<section id="per-face"><h2>Per-face detail (multi split)</h2>
<p>Each face of each multi-character item (0 = leftmost in the portrait), as the score used it: a face whose
coverage for a metric is below {_percent(PROTOCOL.coverage.min_coverage)} is lost and scores -1 in the ranking
(its raw value is still shown). A face that is not found in the generated video counts as unmatched.</p>
{_blocks(lambda mode: _faces_table(faces, mode))}
</section>
<section id="paper-rows" class="paper">
<h2>Reported in the FantasyPortrait paper<span class="badge">not ranked</span></h2>
<p>Table 1 of arXiv:2507.12956, copied as printed. The paper does not name its extractors, crops or units,
and its footnote prints {escape(scale)}; protocol {escape(PROTOCOL.version)} measures AED, APD, LMD and MAE
with different extractors. These rows are context, not competitors of the runs above. The paper reports
neither LPIPS nor CSIM.</p>
{_paper_table(paper)}
</section>
<section id="plots"><h2>Plots</h2>
{figures or '<p class="empty">No runs to plot.</p>'}
</section>
{_trust_section(validation)}
{_protocol_section()}
<footer>Generated by exprbench {escape(__version__)} with <code>exprbench leaderboard</code>; rebuilding from the
same runs gives the same files.</footer>
</main>
<script>{_JS}</script>
</body>
</html>
"""


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|") if text else "n/a"


def _md_value(e: Entry, name: str) -> str:
    value = e.values.get(name, math.nan)
    if name in e.unavailable:
        return "unavailable"
    text = "n/a" if math.isnan(value) else display(value)
    coverage = e.coverage_by_metric.get(name)
    if coverage is not None and not math.isnan(coverage) and coverage < 1.0 and not math.isnan(value):
        text += f" ({_percent(coverage)})"
    if e.faces_lost_by_metric.get(name):
        text += f" [{e.faces_lost_by_metric[name]} lost]"
    if e.warnings.get(name):
        text += " ⚠ " + "; ".join(e.warnings[name])
    return text


def _md_score(e: Entry) -> str:
    if math.isnan(e.score):
        return ""
    lo, hi = e.score_ci
    return _score(e.score) + ("" if math.isnan(lo) else f" [{lo:.3f}, {hi:.3f}]")


def _md_trust(validation: Validation | None) -> list[str]:
    lines = ["## Can these numbers be trusted?", ""]
    if validation is None:
        return lines + ["Validation was not run for this build (`exprbench validate --bench BENCH --out DIR`, then "
                        "`exprbench leaderboard --validation DIR/validation.csv`).", ""]
    failed = validation.failed
    failing = ", ".join(sorted({f"{c.metric} ({c.ladder}, {c.mode})" for c in failed}))
    lines += [f"From `{validation.source}`: {len(validation.checks) - len(failed)} of {len(validation.checks)} "
              "checks passed" + (f"; failing: {failing}" if failed else "") + ".", "",
              "| metric | ladder | mode | rungs | spearman | pairs right | passed |", "|---|---|---|---|---:|---:|---|"]
    lines += [f"| `{c.metric}` | {_md_cell(c.ladder)} | {c.mode} | {_md_cell(c.rungs)} | {fmt(c.spearman) or 'n/a'} | "
              f"{c.pairs_correct}/{c.pairs_total} | {'yes' if c.passed else '**NO**'} |" for c in validation.checks]
    return lines + [""]


def render_markdown(entries: list[Entry], csv_files: list[str], validation: Validation | None = None) -> str:
    """A Markdown version of the ranked tables, the trust section and the paper's rows, for the project README."""
    ours = [e for e in entries if not e.is_paper]
    paper = [e for e in entries if e.is_paper]
    lines = [f"# ExprBench leaderboard (protocol {PROTOCOL.version})", "",
             ("Generated by `exprbench leaderboard`; open `index.html` for sorting, filters, per-face detail and "
              "plots. Data: " + ", ".join(f"[{f}]({f})" for f in csv_files) + "."), "",
             ("Arrows: ↓ lower is better, ↑ higher is better. Score: mean of the ranked metrics normalised against "
              "the benchmark's anchors (0 = static baseline or fixed worst value, 1 = ideal, lost faces -1), with "
              f"its {_percent(PROTOCOL.ranking.confidence)} bootstrap interval; rank `2=` is a tie (paired "
              "bootstrap interval of the difference contains 0). Values to 4 significant digits (the CSVs have 6); "
              "`(80%)`: coverage; `[n lost]`: faces below the coverage threshold; ⚠: set-metric warning; "
              "`n/a`: no face found; `unavailable`: the metric's weights were not installed where eval ran."),
             ""]
    for split in SPLITS:
        for mode in MODES:
            rows = [e for e in ours if e.split == split and e.mode == mode]
            if not rows:
                continue
            names, _ = _measured([m for m in metrics() if mode in m.modes], [e.values for e in rows])
            dropped = [m.name.upper() for m in metrics() if mode in m.modes and m not in names]
            lines += [f"## {split} / {mode}", ""]
            if dropped:
                lines += [f"Not measured in any of these runs: {', '.join(dropped)}.", ""]
            lines += ["| rank | method | version | benchmark | run by | items | coverage | "
                      + " | ".join(f"{m.name.upper()} {arrow(m.direction)}" for m in names) + " | score | status |",
                      "|---:|---|---|---|---|---:|---:|" + "---:|" * len(names) + "---:|---|"]
            for e in rows:
                values = " | ".join(_md_cell(_md_value(e, m.name)) for m in names)
                lines.append(f"| {_rank_text(e)} | {_md_cell(e.method)} | {_md_cell(e.method_version)} | "
                             f"{_md_cell(e.benchmark)} | {_md_cell(e.run_by)} | "
                             f"{fmt(e.items)}/{fmt(e.items_in_benchmark) or '?'} | "
                             f"{_percent(e.coverage)} | {values} | {_md_score(e)} | {_md_cell(e.comparability)} |")
            lines.append("")
    lines += _md_trust(validation)
    if not paper:
        return "\n".join(lines) + "\n"
    scale = ", ".join(f"{k.upper()} x{v}" for k, v in PAPER_SCALE.items())
    lines += ["## Reported in the FantasyPortrait paper (Table 1, unspecified protocol, not ranked)", "",
              (f"As printed (footnote: {scale}); the paper's extractors are not named and differ from protocol "
               f"{PROTOCOL.version}'s, so these numbers are not comparable with the tables above."), ""]
    columns = [(mode, m) for mode in MODES for m in metrics() if any(e.mode == mode and m.name in e.printed
                                                                     for e in paper)]
    lines += ["| method | split | " + " | ".join(f"{m.name.upper()} {arrow(m.direction)} ({mode})"
                                                 for mode, m in columns) + " |",
              "|---|---|" + "---:|" * len(columns)]
    by_row: dict[tuple[str, str], dict[str, Entry]] = {}
    for e in paper:
        by_row.setdefault((e.split, e.method), {})[e.mode] = e
    for (split, method), modes in by_row.items():
        cells = " | ".join(modes[mode].printed.get(m.name, "") if mode in modes else "" for mode, m in columns)
        lines.append(f"| {_md_cell(method)} | {split} | {cells} |")
    return "\n".join(lines) + "\n"
