"""The Markdown summary of a run: pooled WER per provider (and condition) with TOTAL rows and
confidence intervals, pooled DER/JER/cpWER, a per-file table, worst files, the analysis
sections (paired differences, terms, confidence, edits, flags) and failures."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from stt_eval.metrics.diarization import DEFAULT_SCORING_REGION
from stt_eval.metrics.stats import DEFAULT_LEVEL
from stt_eval.report.analysis.domain_sections import domain_sections
from stt_eval.report.analysis.intervals import with_intervals
from stt_eval.report.analysis.sections import analysis_sections, ci
from stt_eval.report.groups import Contents, Group, anchor, grouped
from stt_eval.report.mix_vs_split import NOTE as CHANNELS_NOTE
from stt_eval.report.mix_vs_split import mix_vs_split
from stt_eval.report.streaming import streaming_sections
from stt_eval.report.systems import systems
from stt_eval.report.tables import (
    TOTAL,
    failures,
    no_ref_words,
    per_file,
    pooled,
    pooled_der,
    speed_and_cost,
    worst_files,
)
from stt_eval.report.verdict import verdict_blocks


def _fmt(value: object) -> str:
    if value is pd.NA:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.2f}"
    return str(value)


def with_ci(
    table: pd.DataFrame, frame: pd.DataFrame, by: list[str], metrics: tuple[str, ...]
) -> pd.DataFrame:
    """``table`` with a ``<metric> 95 % CI`` column right after each metric's rate."""
    table = with_intervals(table, frame, by, metrics)
    for m in metrics:
        text = [ci(lo, hi) for lo, hi in zip(table.pop(f"{m}_low"), table.pop(f"{m}_high"))]
        table.insert(list(table.columns).index(m) + 1, f"{m} 95 % CI", text)
    return table


def cells(frame: pd.DataFrame, percent: tuple[str, ...] = ("wer", "cer")) -> pd.DataFrame:
    """A DataFrame's values as the report shows them: rate columns as percentages, other
    floats with two decimals, missing values as –. Markdown and HTML tables both use it."""
    shown = frame.copy()
    for col in percent:
        if col in shown:
            shown[col] = shown[col].map(lambda v: "–" if pd.isna(v) else f"{100 * v:.1f} %")
    return shown.astype(object).map(_fmt) if len(shown) else shown


def md_table(frame: pd.DataFrame, percent: tuple[str, ...] = ("wer", "cer")) -> str:
    """A DataFrame as a GitHub Markdown table; rate columns shown as percentages."""
    if frame.empty:
        return "_(none)_\n"
    shown = cells(frame, percent)
    header = "| " + " | ".join(str(c) for c in shown.columns) + " |"
    rule = "|" + "|".join("---" for _ in shown.columns) + "|"
    body = [
        "| " + " | ".join(v.replace("|", "\\|") for v in row) + " |"
        for row in shown.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body]) + "\n"


@dataclass(frozen=True, eq=False)
class Table:
    """A table block of a report, rendered as Markdown or HTML: the frame, and its rate
    columns shown as percentages."""

    frame: pd.DataFrame
    percent: tuple[str, ...] = ("wer", "cer")


Block = str | Table | Group | Contents
"""A report is a list of blocks: Markdown text (headings, notes, lists), tables, and the marks
of its layout (:mod:`stt_eval.report.groups`)."""


def _md(block: Block) -> str:
    if isinstance(block, Table):
        return md_table(block.frame, block.percent)
    if isinstance(block, Group):
        return f"## {block.title}\n"
    if isinstance(block, Contents):
        return "Contents: " + " · ".join(f"[{t}](#{anchor(t)})" for t in block.titles) + "\n"
    return block


def markdown(blocks: list[Block]) -> str:
    """Blocks as one Markdown document."""
    return "\n".join(_md(b) for b in blocks)


def summary_markdown(frame: pd.DataFrame, title: str, normalizer: str, notes: str = "") -> str:
    """The run summary: the verdict, then the pooled tables, per-file detail, worst files,
    analyses and failures in groups."""
    return markdown(grouped(summary_blocks(frame, title, normalizer, notes)))  # type: ignore[arg-type]


def summary_blocks(
    frame: pd.DataFrame, title: str, normalizer: str, notes: str = ""
) -> list[Block]:
    """The summary's blocks (sections in the order they are computed; :func:`grouped` lays
    them out), for :func:`markdown` and the HTML report alike."""
    grid = ("condition", "chunking", "merge", "channel_mode")
    by = ["provider"] + [c for c in grid if c in frame and frame[c].nunique() > 1]
    table = with_ci(pooled(frame, by), frame, by, ("wer", "cer"))
    extra = ["boundary_errors"] if "boundary_errors" in table else []
    total = table[
        [
            *by,
            "wer",
            "wer 95 % CI",
            "subs",
            "dels",
            "ins",
            "ref_words",
            *extra,
            "files",
            "failed",
            *(["no_ref_words"] if table["no_ref_words"].any() else []),
            "cer",
            "cer 95 % CI",
        ]
    ]
    parts = [
        f"# {title}\n",
        notes,
        *verdict_blocks(frame),
        "## Pooled WER\n",
        f"Text normalizer: `{normalizer}` (applied to references and hypotheses alike). "
        "WER = (S + D + I) / N pooled over files; S/D/I from a unit-cost alignment (jiwer). "
        "A TOTAL row pools a provider's rows above it at one setting (counts added, rate from "
        "the sums); there is none across providers, chunk settings or channel modes. 95 % CI: "
        "the rate's "
        f"{DEFAULT_LEVEL:.0%} confidence interval from resampling files (per-file bootstrap, "
        "stt_eval/metrics/stats.py); – with fewer than 2 files.\n",
        Table(total),
    ]
    speed = speed_and_cost(frame)
    if len(speed):
        parts += [
            "## Speed and cost\n",
            "Latency: wall time of the requests that succeeded (engine time for local engines); "
            "RTFx = audio seconds / latency seconds, pooled. Cost: list price of the audio "
            "sent (– where no price is documented; set price_per_minute). Cached rows keep what "
            "was measured when they were computed.\n",
            Table(speed, percent=("cached",)),
        ]
    if "condition" in by and frame["condition"].nunique() > 1:
        parts += [
            "## WER by condition (with 95 % interval)\n",
            Table(by_condition(frame), percent=()),
        ]
    der = pooled_der(frame)
    if len(der):
        der = with_ci(der, frame, ["diarizer", "condition"], ("der", "jer"))
        collar = frame["collar_s"].dropna().iloc[0]
        parts += [
            "## Diarization (files with reference speaker turns)\n",
            f"DER = (missed + false alarm + confusion) / reference speech, seconds pooled over files; "
            f"collar {collar:g} s each side of reference boundaries (md-eval convention); "
            f"scoring region: {DEFAULT_SCORING_REGION}. JER = the reference speakers' summed "
            "Jaccard errors / their number, added up over files (pyannote.metrics' components: "
            "each reference speaker weighs the same), not a mean of per-file JERs; "
            "– where the rows do not carry its components. "
            "cpWER: words get the speaker of the overlapping diarized turn, then meeteval's "
            "concatenated minimum-permutation WER against the speaker-attributed reference. "
            "A diarizer's TOTAL row pools its rows above it.\n",
            Table(
                der,
                percent=tuple(
                    c
                    for c in der.columns
                    if c in ("der", "miss", "fa", "conf", "jer") or c.startswith("cpwer")
                ),
            ),
        ]
    channels = mix_vs_split(frame)
    if len(channels):
        parts += [
            "## Mix + diarization vs split by channel\n",
            CHANNELS_NOTE,
            Table(channels, percent=("wer", "cpwer", "der", "jer", "crosstalk_rate")),
        ]
    files = per_file(frame, total=True)
    first = frame["condition"].iloc[0] if len(frame) else "clean"
    parts += [
        f"## Per file ({first})\n",
        Table(files[files["condition"] == first].drop(columns=["condition"])),
    ]
    parts += ["## Worst files\n", Table(worst_files(frame))]
    parts += analysis_sections(frame, Table)
    parts += domain_sections(frame, Table)
    parts += streaming_sections(frame, Table)
    empty = no_ref_words(frame)
    if len(empty):
        parts += [
            f"## References with no words ({len(empty)})\n",
            "These references hold no word after normalization (only markup such as [noise], "
            "or fillers), so their WER is undefined: they are left out of every pooled WER "
            "(column no_ref_words). Add the words that were said, or drop the rows.\n",
            Table(empty),
        ]
    warned = warnings_table(frame)
    if len(warned):
        parts += [
            f"## Warnings ({int(warned['cells'].sum())} cells)\n",
            "Cells scored, but with something to check first (each warning says what and the "
            "fix); their numbers are in the tables above.\n",
            Table(warned, percent=()),
        ]
    bad = failures(frame)
    if len(bad):
        parts += [f"## Failures ({len(bad)})\n", Table(bad)]
    return parts


def by_condition(frame: pd.DataFrame) -> pd.DataFrame:
    """Pooled WER and interval per system (provider at one setting) × condition: conditions
    down and systems across, or systems down when there are more of them than conditions (a
    16-setting chunk run stays as wide as its conditions)."""
    named = systems(frame)
    cells = with_intervals(
        pooled(named, ["provider", "condition"]), named, ["provider", "condition"]
    )
    cells["cell"] = [
        f"{100 * w:.1f} % {ci(lo, hi)}" if not math.isnan(w) else "–"
        for w, lo, hi in zip(cells["wer"], cells["wer_low"], cells["wer_high"])
    ]
    pivot = cells.pivot(index="condition", columns="provider", values="cell")
    order = [*dict.fromkeys(frame["condition"]), TOTAL]
    pivot = pivot.reindex([c for c in order if c in pivot.index])
    names = list(dict.fromkeys(named["provider"]))
    if len(names) > len(pivot.index.drop(TOTAL, errors="ignore")):
        return pivot.T.reindex(names).rename_axis("system").reset_index().rename_axis(None, axis=1)
    return pivot.reset_index().rename_axis(None, axis=1)


def warnings_table(frame: pd.DataFrame, shown: int = 5) -> pd.DataFrame:
    """Each distinct row warning, how many cells carry it and the files they belong to."""
    if "warning" not in frame:
        return pd.DataFrame()
    warned = frame[frame["warning"].notna() & (frame["warning"] != "")]
    out = []
    for warning, rows in warned.groupby("warning", sort=False):
        ids = list(dict.fromkeys(rows["sample_id"]))
        more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
        out.append({"warning": warning, "cells": len(rows), "files": ", ".join(ids[:shown]) + more})
    return pd.DataFrame(out, columns=["warning", "cells", "files"])
