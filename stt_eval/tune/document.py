"""``tune.md`` and ``tune.html``: the recommendation first, in sentences with numbers, then the
TOML to paste, how the race went, every setting tried, and the Pareto figure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path

import pandas as pd

from stt_eval.report.analysis.sections import ci
from stt_eval.report.html import figure_html, html_table, page, png_data_uri, text_html
from stt_eval.report.markdown import md_table
from stt_eval.tune.figure import pareto_figure
from stt_eval.tune.runner import ProviderTune, TuneResult
from stt_eval.tune.table import pct, settings_table, toml_snippet

TUNE_MD, TUNE_HTML, TUNE_PNG = "tune.md", "tune.html", "tune_pareto.png"


def _ci(iv) -> str:
    return "no interval with one file" if math.isnan(iv.low) else f"95 % CI {ci(iv.low, iv.high)}"


def verdict(t: ProviderTune, search_files: Sequence[str]) -> list[str]:
    """A provider's answer in sentences: what to use, how sure, what it costs, the holdout."""
    rec, r = t.recommendation, t.race
    if rec is None:
        return [f"**{t.label}**: no setting to recommend ({r.stopped})."]
    lines = [
        f"**{t.label}**: use **{rec.setting.label}** — WER {pct(rec.wer)} ({_ci(rec.interval)}) "
        f"on {rec.files} files; it sends {rec.audio_s / 60:.1f} audio minutes in "
        f"{rec.requests} requests for them."
    ]
    if rec.test is not None:
        lines.append(
            f"It is the cheapest setting not significantly worse than the best, "
            f"{rec.best.label}: {rec.test.verdict}."
        )
    else:
        lines.append("It is also the setting with the lowest WER.")
    grid = t.grid_s(search_files)
    lines.append(
        f"The race scored {len(r.standings)} settings on up to {len(r.files)} of "
        f"{len(search_files)} files and stopped: {r.stopped}. It sent {r.spent_s / 60:.1f} "
        f"audio minutes; the full grid over the same files would send {grid / 60:.1f} "
        f"({r.spent_s / grid:.0%} of that)."
        if grid
        else f"It stopped: {r.stopped}."
    )
    if t.over_limit:
        lines.append(
            f"Left out by the provider's upload limit: {', '.join(s.label for s in t.over_limit)}."
        )
    if t.holdout is not None:
        h = t.holdout
        said = f" Against {rec.best.label} there: {h.test.verdict}." if h.test else ""
        lines.append(
            f"On {len(h.files)} held-out files the search never saw: WER {pct(h.wer)} "
            f"({_ci(h.interval)}).{said}"
        )
    return lines


def _method(result: TuneResult) -> str:
    return (
        "Successive halving with a paired test: each round scores the surviving settings on "
        "more files (1, 2, 4, … then all), drops every setting the paired bootstrap over "
        "per-file errors finds significantly worse than the best (α = 0.05), then, while files "
        "remain, keeps the better half of the chunk settings (ranked by their best merge's "
        "pooled WER) with all their merges, which share their windows. Each round is an ordinary `stt-eval run` "
        f"under `{result.output / 'runs'}`, sharing its transcript cache: running the "
        "recommended grid afterwards sends nothing again. WERs of settings dropped early come "
        "from fewer files than the survivors'."
    )


def write_tune(result: TuneResult) -> tuple[Path, Path]:
    """Write tune.md, tune.html and the figure's PNG into the result's output directory."""
    out = Path(result.output)
    out.mkdir(parents=True, exist_ok=True)
    tables = {t.label: settings_table(t, result.experiment.seed) for t in result.providers}
    plot = pareto_figure(result.providers)
    snippet = toml_snippet(result)
    n = len(result.search_files)
    held = f", {len(result.holdout_files)} held out" if result.holdout_files else ""
    title = f"stt-eval tune: {result.experiment.name} ({n} files searched{held})"
    md = [f"# {title}\n", "## Recommendation\n"]
    html = [f"<h1>{escape(title)}</h1>", "<h2>Recommendation</h2>"]
    for t in result.providers:
        said = " ".join(verdict(t, result.search_files))
        md.append(said + "\n")
        html.append(text_html(said))
    md += ["## Paste into your experiment\n", f"```toml\n{snippet}```\n", "## How it searched\n"]
    md.append(_method(result) + "\n")
    html += [
        "<h2>Paste into your experiment</h2>",
        f"<pre>{escape(snippet)}</pre>",
        "<h2>How it searched</h2>",
        text_html(_method(result)),
    ]
    if plot is not None:
        plot.figure.savefig(out / TUNE_PNG, dpi=100, bbox_inches="tight")
        md.append(f"![{plot.title}]({TUNE_PNG})\n")
        html.append(figure_html(plot.name, plot.title, png_data_uri(plot.figure), plot.data))
    for label, table in tables.items():
        md += [f"## Every setting tried: {label}\n", _md(table)]
        html += [f"<h2>Every setting tried: {escape(label)}</h2>", _html(table)]
    md_path, html_path = out / TUNE_MD, out / TUNE_HTML
    md_path.write_text("\n".join(md), encoding="utf-8")
    html_path.write_text(page(title, "\n".join(html)), encoding="utf-8")
    return md_path, html_path


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["chunking", "merge"], errors="ignore")


def _md(table: pd.DataFrame) -> str:
    return md_table(_shown(table), ("wer",))


def _html(table: pd.DataFrame) -> str:
    return html_table(_shown(table), ("wer",))
