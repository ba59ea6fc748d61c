"""HTML parts of the report: escaped, sortable tables; Markdown notes as paragraphs; figures as
embedded PNG; alignments; the page itself.

Everything that comes from data is passed through :func:`html.escape` and no script builds
markup from data, so a transcript holding ``<script>`` shows as text. The page loads nothing:
styles and the one script are inline, images are ``data:`` URIs, and its Content-Security-Policy
allows no request and no script but the sorter (by its hash).
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import re
from collections.abc import Sequence
from html import escape
from numbers import Real

import pandas as pd

from stt_eval.report.markdown import cells
from stt_eval.report.tables import TOTAL

SORTER = """\
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0], col = th.cellIndex;
    var up = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    function key(row) {
      var cell = row.cells[col], n = cell.getAttribute("data-sort");
      return n === null ? [1, 0, cell.textContent] : [0, parseFloat(n), ""];
    }
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var d = x[0] - y[0] || x[1] - y[1] || x[2].localeCompare(y[2], undefined, {numeric: true});
      return up || x[0] !== y[0] ? d : -d;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""
"""Click a header to sort its table (numbers by value, text naturally, blanks last); it only
moves existing rows, never writes markup."""

STYLE = """\
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
       max-width: 1600px; margin: 0 auto; padding: 1rem 1.25rem 4rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
  border-bottom: 1px solid #ddd; padding-bottom: .2rem; } h3 { font-size: 1.05rem; }
code, pre { font: .85rem/1.35 ui-monospace, monospace; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; }
.scroll { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: .8rem; }
th, td { border: 1px solid #d8d8d8; padding: .2rem .45rem; text-align: left; }
td.long { white-space: normal; min-width: 18em; max-width: 36em; }
th { background: #f0f0f0; cursor: pointer; position: relative; }
th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; background: #fafafa; }
figure { margin: 1rem 0 2rem; } figure img { max-width: 100%; height: auto; }
figcaption { font-weight: 600; margin-bottom: .3rem; } details { margin: .3rem 0; }
summary { cursor: pointer; color: #2a5db0; }
details.group { margin: 1.2rem 0; border-top: 1px solid #ddd; }
details.group > summary h2 { display: inline; border: 0; margin: 0; font-size: 1.25rem; }
details.group > summary { padding: .6rem 0; } details.group h3 { font-size: 1.1rem; margin-top: 1.6rem; }
#verdict + p + ul li { margin: .35rem 0; } #verdict + p + ul { max-width: 75em; }
.align { display: flex; flex-wrap: wrap; gap: .7rem .35rem; font: .85rem ui-monospace, monospace;
  margin: .4rem 0 1.2rem; }
.w { display: inline-flex; flex-direction: column; } .w span { min-height: 1.2em; white-space: pre; }
.w.lab span, .w.lab span:last-child { color: #666; font-weight: 400; } .w.S span:nth-child(-n+2) { background: #fff0c2; }
.w.D span:first-child, .w.I span:nth-child(2) { background: #ffd6d6; }
.w span:last-child { color: #b00; font-weight: 700; }
"""


RATES = ("wer", "cer", "der", "jer", "miss", "fa", "conf", "cpwer", "uer")
"""Columns of a figure's values that are rates (shown as percentages), with their ``_low`` /
``_high`` interval bounds and per-provider ``cpwer <provider>`` columns."""

LONG = 40
"""Text cells longer than this wrap (the others stay on one line)."""


def slug(text: str) -> str:
    """An anchor id for a heading."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _inline(text: str) -> str:
    """Escaped text with Markdown `code` spans (the only inline markup the notes use)."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def text_html(text: str) -> str:
    """Markdown notes as HTML: headings, bullet lists and paragraphs, everything escaped."""
    out = []
    for para in text.strip().split("\n\n"):
        lines = [line for line in para.splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("#"):
            level = min(len(lines[0]) - len(lines[0].lstrip("#")), 6)
            title = lines[0].lstrip("#").strip()
            out.append(f'<h{level} id="{slug(title)}">{_inline(title)}</h{level}>')
            lines = lines[1:]
        if lines and all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        elif lines:
            out.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "\n".join(out)


def _sort_key(value: object) -> str | None:
    """The number a cell sorts by (None: sort as text); numpy and nullable-integer scalars too."""
    if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value):
        return repr(float(value))
    return None


def html_table(frame: pd.DataFrame, percent: Sequence[str] = ("wer", "cer")) -> str:
    """A DataFrame as a sortable HTML table, cells formatted as in the Markdown summary
    (:func:`cells`), every value escaped; TOTAL rows are set in bold."""
    if frame.empty:
        return "<p><em>(none)</em></p>"
    shown = cells(frame, tuple(percent))
    head = "".join(f'<th scope="col" title="sort">{escape(str(c))}</th>' for c in shown.columns)
    body = []
    for raw, text in zip(frame.itertuples(index=False), shown.itertuples(index=False), strict=True):
        tds = []
        for value, shown_value in zip(raw, text, strict=True):
            key = _sort_key(value)
            attrs = f' class="num" data-sort="{key}"' if key is not None else ""
            if key is None and len(shown_value) > LONG:
                attrs = ' class="long"'
            tds.append(f"<td{attrs}>{escape(str(shown_value))}</td>")
        total = ' class="total"' if TOTAL in [str(v) for v in raw] else ""
        body.append(f"<tr{total}>{''.join(tds)}</tr>")
    rows = "\n".join(body)
    return (
        f'<div class="scroll"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{rows}\n</tbody></table></div>"
    )


def png_data_uri(figure, dpi: int = 100) -> str:
    """A matplotlib figure as an embedded PNG (``data:`` URI): the page needs no file beside it."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(name: str, title: str, image_uri: str, data: pd.DataFrame) -> str:
    """One figure with the values it draws in a collapsible table below it."""
    rates = tuple(
        c
        for c in data.columns
        if str(c).removesuffix("_low").removesuffix("_high").split(" ")[0] in RATES
    )
    return (
        f'<figure id="fig-{slug(name)}"><figcaption>{escape(title)}</figcaption>'
        f'<img src="{image_uri}" alt="{escape(title)}">'
        f"<details><summary>The values drawn ({len(data)} rows)</summary>"
        f"{html_table(data, rates)}</details></figure>"
    )


def alignment_html(columns: Sequence[tuple[str, str, str]]) -> str:
    """REF / HYP / Eval columns that wrap with the page; errors shaded, S/D/I below them."""
    label = '<span class="w lab"><span>REF</span><span>HYP</span><span>Eval</span></span>'
    words = "".join(
        f'<span class="w {mark or "C"}"><span>{escape(ref)}</span><span>{escape(hyp)}</span>'
        f"<span>{mark}</span></span>"
        for ref, hyp, mark in columns
    )
    return f'<div class="align">{label}{words}</div>'


def contents_html(headings: Sequence[str]) -> str:
    """A short contents line linking to `headings` (ids from :func:`slug`)."""
    items = " · ".join(f'<a href="#{slug(h)}">{escape(h)}</a>' for h in headings)
    return f"<nav><p>Contents: {items}</p></nav>"


def page(title: str, body: str) -> str:
    """The whole document: inline style and sorter, and a policy that forbids every request
    and every other script."""
    digest = base64.b64encode(hashlib.sha256(SORTER.encode()).digest()).decode()
    policy = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{STYLE}</style></head>\n"
        f"<body>\n{body}\n<script>{SORTER}</script>\n</body></html>\n"
    )
