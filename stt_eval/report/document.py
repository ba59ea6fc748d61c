"""The shareable report of a run directory: ``report.html``, one self-contained page (the
summary's tables, sortable; the figures with the values they draw; the worst files' alignments;
where every number comes from) and ``report.md``, the same without figures for pull requests
and wikis. Both are made from ``rows.jsonl`` and ``experiment.json`` alone, so any finished or
interrupted run can be reported again, and neither ever holds an API key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from stt_eval.errors import BadInput
from stt_eval.metrics.wer import WordScore
from stt_eval.providers.keys import scrub
from stt_eval.report.alignment import columns, pralign_lines, row_alignment
from stt_eval.report.groups import FIGURES, Contents, Group, grouped
from stt_eval.report.html import (
    alignment_html,
    contents_html,
    figure_html,
    html_table,
    page,
    png_data_uri,
    slug,
    text_html,
)
from stt_eval.report.markdown import Block, Table, markdown, summary_blocks
from stt_eval.report.tables import TRANSCRIPT_KEY, worst_files
from stt_eval.run.directory import (
    EXPERIMENT_FILE,
    REPORT_HTML,
    REPORT_MD,
    read_rows,
    rows_frame,
    write_atomic,
)

VERSION_COLUMNS = (
    "provider",
    "engine",
    "model",
    "engine_version",
    "stt_eval_version",
    "normalizer",
)
ALIGN_WIDTH = 100
"""Characters per REF/HYP/Eval block in report.md."""


@dataclass(frozen=True)
class Code:
    """A preformatted block (the resolved experiment)."""

    text: str


@dataclass(frozen=True)
class Aligned:
    """A transcript's alignment: pralign text in Markdown, wrapping columns in HTML."""

    uid: str
    score: WordScore

    def text(self) -> str:
        return "\n".join(pralign_lines(self.uid, self.score, ALIGN_WIDTH)).rstrip()


def versions(frame: pd.DataFrame) -> pd.DataFrame:
    """Which engine, model and versions made each provider's rows, and with which normalizer."""
    cols = [c for c in VERSION_COLUMNS if c in frame]
    shown = frame[cols].astype(object).where(frame[cols].notna(), "–")
    return shown.assign(rows=1).groupby(cols, sort=False)["rows"].sum().reset_index()


def worst_aligned(frame: pd.DataFrame, n: int = 5) -> list[tuple[dict[str, Any], WordScore | None]]:
    """The worst transcripts (:func:`worst_files`) that have errors, with the alignment behind
    their counts."""
    worst = worst_files(frame, n)
    worst = worst[worst["subs"] + worst["dels"] + worst["ins"] > 0]
    if worst.empty:
        return []
    texts = ["reference", "hypothesis", "normalizer", "language"]
    key = [k for k in TRANSCRIPT_KEY if k in worst]  # channel_mode only where a run split
    ok = frame[frame["status"] == "ok"].drop_duplicates(key)
    rows = worst.merge(ok[[*key, *texts]], on=key, how="left")
    return [(r, row_alignment(r)) for r in rows.to_dict("records")]


def _heading(row: dict[str, Any]) -> str:
    cell = " · ".join(
        str(row[k]) for k in TRANSCRIPT_KEY if row.get(k, "none") not in ("none", "mix")
    )
    return (
        f"{cell} — WER {100 * row['wer']:.1f} % (S {row['subs']}, D {row['dels']}, I {row['ins']})"
    )


UNALIGNED = (
    "Alignment not shown: redoing it from the row's stored texts does not give its counts "
    "(rows written before texts were stored, or a sample language other than English).\n"
)


def report_blocks(frame: pd.DataFrame, experiment: dict[str, Any]) -> list[Block | Code | Aligned]:
    """The report as blocks, laid out in groups (:func:`grouped`): the summary's, the worst
    files' alignments, then provenance."""
    run_id = str(frame["run_id"].iloc[0])
    normalizer = experiment.get("experiment", {}).get("normalizer") or frame["normalizer"].iloc[0]
    files = frame["sample_id"].nunique()
    notes = (
        f"Run `{run_id}` · {files} files · {len(frame)} rows. Every number below is pooled "
        "from the counts in this run's `rows.jsonl`; the engines, models and versions that "
        "made them and the resolved experiment are under Provenance.\n"
    )
    blocks: list[Block | Code | Aligned] = [
        *summary_blocks(frame, f"stt-eval report — {run_id}", normalizer, notes)
    ]
    aligned = worst_aligned(frame)
    if aligned:
        blocks += [
            "## Worst files: alignments\n",
            "Each worst transcript's normalized reference (REF) and hypothesis (HYP) aligned as "
            "sclite's pralign shows them: errors in capitals, `***` for a missing word, S / D / I "
            "under each substitution, deletion and insertion — the alignment that gave the "
            "row's counts.\n",
        ]
        shown: set[tuple] = set()
        for row, score in aligned:
            blocks.append(f"### {_heading(row)}\n")
            key = (score.ref, score.hyp) if score else None
            if key in shown:  # e.g. a short file, the same words chunked and unchunked
                blocks.append("The same words and alignment as above.\n")
            else:
                blocks.append(Aligned(row["sample_id"], score) if score else UNALIGNED)
                shown.add(key)
    blocks += [
        "## Provenance\n",
        "The engine, model and version of every row (each row records them), the stt-eval "
        "version that scored it and the text normalizer:\n",
        Table(versions(frame), percent=()),
        "The resolved experiment (every default filled in) as the run saved it in "
        f"`{EXPERIMENT_FILE}`:\n",
        Code(json.dumps(experiment, indent=2, ensure_ascii=False) if experiment else "(none)"),
    ]
    return grouped(blocks)  # type: ignore[return-value]


def report_markdown(blocks: list[Block | Code | Aligned]) -> str:
    """report.md: the report's blocks as Markdown (figures are in report.html)."""
    blocks = [Code(b.text()) if isinstance(b, Aligned) else b for b in blocks]
    fence = "`" * 3
    while any(isinstance(b, Code) and fence in b.text for b in blocks):
        fence += "`"  # a transcript holding ``` cannot end the block
    return markdown([f"{fence}\n{b.text}\n{fence}\n" if isinstance(b, Code) else b for b in blocks])


def _figures(frame: pd.DataFrame) -> str:
    """Every figure the run has data for, each with the values it draws."""
    from stt_eval.report.figures import plots  # matplotlib: imported when a page is drawn

    return "\n".join(
        figure_html(p.name, p.title, png_data_uri(p.figure), p.data) for p in plots(frame)
    )


def _group_html(title: str, is_open: bool) -> str:
    """The start of a collapsible group (closed by ``</details>``)."""
    shown = " open" if is_open else ""
    return (
        f'<details class="group" id="{slug(title)}"{shown}>'
        f"<summary><h2>{escape(title)}</h2></summary>"
    )


def report_html(blocks: list[Block | Code | Aligned], frame: pd.DataFrame) -> str:
    """report.html: the report's blocks, each group a collapsible ``<details>``, the figures of
    `frame` a group of their own after the first."""
    title = str(blocks[0]).lstrip("# ").strip()
    figures = _figures(frame)
    parts: list[str] = []
    titles: list[str] = []
    groups = 0
    contents_at = None
    for block in blocks:
        if isinstance(block, Contents):
            contents_at = len(parts)
            parts.append("")
        elif isinstance(block, Group):
            parts.append("</details>" if groups else "")
            if figures and groups == 1:
                parts += [_group_html(FIGURES, True), figures, "</details>"]
                titles.append(FIGURES)
            parts.append(_group_html(block.title, block.open))
            titles.append(block.title)
            groups += 1
        elif isinstance(block, Table):
            parts.append(html_table(block.frame, block.percent))
        elif isinstance(block, Code):
            summary = f"{EXPERIMENT_FILE} ({block.text.count(chr(10)) + 1} lines)"
            parts.append(
                f"<details><summary>{summary}</summary><pre>{escape(block.text)}</pre></details>"
            )
        elif isinstance(block, Aligned):
            parts.append(alignment_html(columns(block.score)))
        else:
            parts.append(text_html(block))
    if groups:
        parts.append("</details>")
    if figures and groups < 2:
        parts += [_group_html(FIGURES, True), figures, "</details>"]
        titles.append(FIGURES)
    if contents_at is not None:
        parts[contents_at] = contents_html(titles)
    return page(title, "\n".join(p for p in parts if p))


def write_report(run_dir: Path) -> tuple[Path, Path]:
    """Write report.html and report.md into a run directory from its rows and experiment."""
    run_dir = Path(run_dir)
    rows = read_rows(run_dir)
    if not rows:
        raise BadInput(
            f"{run_dir} holds no result rows (rows.jsonl); give a run directory such as "
            "results/<run-id>, or make one first: stt-eval run"
        )
    frame = rows_frame(rows)
    path = run_dir / EXPERIMENT_FILE
    experiment = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    out = []
    blocks = report_blocks(frame, experiment)
    for name, text in (
        (REPORT_HTML, report_html(blocks, frame)),
        (REPORT_MD, report_markdown(blocks)),
    ):
        out.append(write_atomic(run_dir / name, scrub(text)))
    return out[0], out[1]
