"""The shareable report: every pooled TOTAL shows in report.html as the summary formats it, the
worst files carry the alignment behind their counts, transcript text is escaped, nothing is
loaded from the network, keys are scrubbed, and report.md holds the summary's tables. Rows are
written by hand (normalizer ``none``: words are whitespace tokens) and every expected value is
counted by hand below."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from stt_eval.api import report
from stt_eval.cli import main
from stt_eval.report.alignment import columns, row_alignment
from stt_eval.report.document import Aligned, report_blocks
from stt_eval.report.html import figure_html, html_table, text_html
from stt_eval.report.markdown import summary_markdown
from stt_eval.run.directory import (
    EXPERIMENT_FILE,
    ROWS_FILE,
    append_rows,
    rows_frame,
    write_results,
)

from .conftest import flat_row

SCRIPT = "<script>window.__pwned=1</script>"
FAKE_KEY = "sk-test-FAKEKEY0123456789abcdef"
REF1 = "the cat sat on the mat"  # 6 words
REF2 = "ask not what your country can do"  # 7 words


def _row(sample, provider, ref, hyp, hits, subs, dels, ins, condition="clean", **kw):
    return flat_row(
        "handmade",
        sample,
        provider,
        condition=condition,
        normalizer="none",
        hits=hits,
        subs=subs,
        dels=dels,
        ins=ins,
        ref_words=hits + subs + dels,
        reference=ref,
        hypothesis=hyp,
        engine=provider,
        model=f"{provider}-model",
        engine_version="9.9",
        stt_eval_version="0.1.0",
        audio_s=3.0,
        processing_s=0.5,
        **kw,
    )


ROWS = [
    _row("s1", "alpha", REF1, REF1, 6, 0, 0, 0),
    _row("s2", "alpha", REF2, "ask what your country can do for you", 6, 0, 1, 2),
    _row("s1", "alpha", REF1, "the cat sat on a mat", 5, 1, 0, 0, condition="noise"),
    _row("s1", "beta", REF1, "the bat sat on mat", 4, 1, 1, 0),
    _row(
        "s2",
        "beta",
        REF2,
        f"ask not what {SCRIPT} your country can do",
        7,
        0,
        0,
        1,
        ins_words=(SCRIPT,),
    ),
    flat_row(
        "handmade",
        "s1",
        "beta",
        condition="noise",
        normalizer="none",
        status="failed",
        error=f"HTTP 401 for key {FAKE_KEY}",
    ),
]
# Pooled by provider × condition, TOTAL rows by hand:
#   alpha: clean 0 + 3 errors / 13 words, noise 1 / 6 -> TOTAL 4 / 19 = 21.1 %, S1 D1 I2,
#          files 2 + 1 = 3, failed 0
#   beta:  clean 2 + 1 errors / 13 words, noise failed -> TOTAL 3 / 13 = 23.1 %, S1 D1 I1,
#          files 2, failed 1
TOTALS = {
    "alpha": ["alpha", "TOTAL", "21.1 %", None, "1", "1", "2", "19", "3", "0"],
    "beta": ["beta", "TOTAL", "23.1 %", None, "1", "1", "1", "13", "2", "1"],
}
EXPERIMENT = {
    "experiment": {"normalizer": "none", "seed": 7, "name": "handmade"},
    "engines": {"alpha": {"name": "alpha", "model": "alpha-model", "version": "9.9"}},
    "stt_eval_version": "0.1.0",
}


def write_run(root):
    """A run folder holding ROWS and EXPERIMENT, as a run leaves them."""
    out = root / "handmade"
    out.mkdir()
    append_rows(out / ROWS_FILE, ROWS)
    write_results(out, ROWS)
    (out / EXPERIMENT_FILE).write_text(json.dumps(EXPERIMENT))
    return out


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The run folder and its report (made once: it bootstraps intervals and draws figures),
    with a key in the environment that must not reach it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", FAKE_KEY)
        run_dir = write_run(tmp_path_factory.mktemp("report"))
        html_path, md_path, _exports = report(run_dir)
    return run_dir, html_path.read_text(), md_path.read_text()


class _Tables(HTMLParser):
    """The text of every table cell, table by table, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _tables(html: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def test_every_pooled_total_shows_as_the_summary_formats_it(made):
    _, html, md = made
    pooled_wer = _tables(html)[0]
    assert pooled_wer[0][:4] == ["provider", "condition", "wer", "wer 95 % CI"]
    totals = {r[0]: r for r in pooled_wer if r[1] == "TOTAL"}
    for provider, expected in TOTALS.items():
        got = totals[provider]
        assert [v for v, e in zip(got, expected) if e is not None] == [
            e for e in expected if e is not None
        ]
    # the same cells as the Markdown table of the same rows
    md_totals = [line for line in md.splitlines() if "| TOTAL |" in line]
    for provider in TOTALS:
        assert f"| {' | '.join(totals[provider])} |" in md_totals


def test_worst_files_show_the_alignment_behind_their_counts(made):
    _, html, md = made
    frame = rows_frame(ROWS)
    beta_s1 = frame[(frame["provider"] == "beta") & (frame["sample_id"] == "s1")].iloc[0]
    assert columns(row_alignment(beta_s1.to_dict())) == [
        ("the", "the", ""),
        ("CAT", "BAT", "S"),
        ("sat", "sat", ""),
        ("on", "on", ""),
        ("THE", "***", "D"),
        ("mat", "mat", ""),
    ]
    # a row whose texts do not give its counts gets no alignment, never a wrong one
    assert row_alignment({**beta_s1.to_dict(), "subs": 0, "hits": 5}) is None
    assert (
        "REF:  the CAT sat on THE mat\nHYP:  the BAT sat on *** mat\nEval:     S          D\n" in md
    )
    assert '<span class="w S"><span>CAT</span><span>BAT</span><span>S</span></span>' in html
    assert html.count('<div class="align">') == 4  # s1/s2 × alpha/beta with errors, not s1 alpha


def test_an_alignment_seen_already_is_not_drawn_twice():
    hyp = "the bat sat on mat"  # one error-bearing transcript, unchunked and chunked alike
    rows = [
        _row("s1", "beta", REF1, hyp, 4, 1, 1, 0),
        _row("s1", "beta", REF1, hyp, 4, 1, 1, 0, chunking="15s/2s", merge="timestamp"),
    ]
    blocks = report_blocks(rows_frame(rows), EXPERIMENT)
    assert sum(isinstance(b, Aligned) for b in blocks) == 1
    assert "The same words and alignment as above.\n" in blocks


def test_transcript_text_is_escaped_and_keys_are_nowhere(made):
    _, html, md = made
    assert SCRIPT not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # the insertions table
    assert html.count("<script>") == 1  # the sorter
    for text in (html, md):
        assert FAKE_KEY not in text
        assert "HTTP 401 for key ***" in text


def test_notes_and_headings_are_escaped_too():
    # a sample id or provider label in a heading, a transcript word in a note: text, never markup
    assert text_html("### <img src=x onerror=alert(1)> · `a<b`\n\n- x & y\n- z") == (
        '<h3 id="img-src-x-onerror-alert-1-a-b">&lt;img src=x onerror=alert(1)&gt; · '
        "<code>a&lt;b</code></h3>\n<ul><li>x &amp; y</li><li>z</li></ul>"
    )


def test_nothing_is_loaded_from_elsewhere(made):
    html = made[1]
    refs = re.findall(r"""\b(?:src|href|action|srcset|poster)\s*=\s*["']?([^"'\s>]*)""", html)
    assert refs and all(r.startswith(("data:image/png;base64,", "#")) for r in refs), refs
    assert not re.search(r"@import|url\(|https?://", html.split("<body>")[0])
    assert "default-src 'none'" in html  # the page may not request anything


def test_figures_are_embedded_with_the_values_they_draw(made):
    from stt_eval.report.figures import plots

    drawn = plots(rows_frame(ROWS))
    html = made[1]
    assert html.count('<img src="data:image/png;base64,') == len(drawn) > 0
    assert html.count("<summary>The values drawn") == len(drawn)


def test_figure_values_show_rates_as_percentages_and_the_rest_as_numbers():
    data = pd.DataFrame(
        {
            "provider": ["a"],
            "wer": [0.25],
            "wer_low": [0.125],
            "der_missed_s": [1.5],
            "cpwer a": [0.5],
            "files": [3],
        }
    )
    html = figure_html("x", "X", "data:image/png;base64,", data)
    (table,) = _tables(html)
    assert table == [list(data.columns), ["a", "25.0 %", "12.5 %", "1.50", "50.0 %", "3"]]
    assert '<td class="num" data-sort="0.25">25.0 %</td>' in html  # sorts by the rate itself
    nullable = html_table(pd.DataFrame({"n": pd.array([4, None], dtype="Int64")}))
    assert '<td class="num" data-sort="4.0">4</td>' in nullable and "<td>–</td>" in nullable


def test_report_md_holds_the_summary_tables_and_provenance(made):
    md = made[2]
    summary = summary_markdown(rows_frame(ROWS), "x", "none").replace(FAKE_KEY, "***")
    tables = re.findall(r"(?:^\|.*\|\n)+", summary, flags=re.M)
    assert len(tables) >= 5
    assert all(t in md for t in tables)
    assert "| alpha | alpha | alpha-model | 9.9 | 0.1.0 | none | 3 |" in md
    assert '"seed": 7' in md


def test_the_cli_writes_the_report_and_names_a_bad_folder(tmp_path, capsys):
    run_dir = write_run(tmp_path)
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").is_file() and (run_dir / "report.md").is_file()
    assert main(["report", str(tmp_path / "nope")]) == 1
    assert "holds no result rows" in capsys.readouterr().err
