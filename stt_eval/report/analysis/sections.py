"""The analysis sections of the Markdown summary: intervals, paired differences with their
verdicts, domain terms, confidence as a review signal, the most frequent edits and flags."""

from __future__ import annotations

import math

import pandas as pd

from stt_eval.metrics.confidence import REVIEW_THRESHOLD
from stt_eval.metrics.errors import FLAGS
from stt_eval.metrics.stats import DEFAULT_ALPHA
from stt_eval.report.analysis.errors import flags_table, review_summary, terms_table, top_edits
from stt_eval.report.analysis.intervals import intervals
from stt_eval.report.analysis.paired import FEW_FILES, comparisons, files_to_test


def ci(low: float, high: float) -> str:
    """An interval of rates as ``[a, b] %``; – when undefined."""
    if math.isnan(low) or math.isnan(high):
        return "–"
    return f"[{100 * low:.1f}, {100 * high:.1f}] %"


def _p(p: float) -> str:
    return "–" if math.isnan(p) else f"{p:.3g}"


def points(d: float) -> str:
    """A rate difference in percentage points, signed, never "-0.0"."""
    return "–" if math.isnan(d) else f"{round(100 * d, 1) + 0.0:+.1f}"


def comparison_table(frame: pd.DataFrame, metric: str = "wer") -> pd.DataFrame:
    """:func:`comparisons` formatted for reading (differences in points, CIs, p-values)."""
    table = comparisons(frame, metric)
    if table.empty:
        return table
    return pd.DataFrame(
        {
            "compared": table["compared"],
            "within": table["within"],
            "a": table["a"],
            "b": table["b"],
            "files": table["files"],
            f"{metric} a": table[f"{metric}_a"],
            f"{metric} b": table[f"{metric}_b"],
            "a − b (pt)": table["diff"].map(points),
            "interval (pt)": [
                "–" if math.isnan(lo) else f"[{100 * lo:+.1f}, {100 * hi:+.1f}] at {_level(lv)}"
                for lo, hi, lv in zip(table["diff_low"], table["diff_high"], table["level"])
            ],
            "p": table["p_bootstrap"].map(_p),
            "p MAPSSWE": table["p_mapsswe"].map(_p),
            "verdict": table["finding"],
        }
    )


KINDS = {"providers": "cell", "conditions": "provider"}
"""What a comparison table's lines compare, and what its ``within`` column then names."""


def _by_kind(table: pd.DataFrame, md_table) -> list:
    """The comparison table as one table per kind of line (no ``compared`` column, so it fits
    a laptop screen), without the MAPSSWE column when no line has enough files for it."""
    out = []
    for kind, within in KINDS.items():
        lines = table[table["compared"] == kind].drop(columns="compared")
        if lines.empty:
            continue
        if (lines["p MAPSSWE"] == "–").all():
            lines = lines.drop(columns="p MAPSSWE")
        title = "Providers, pair by pair:" if kind == "providers" else "Conditions:"
        out += [
            title + "\n",
            md_table(lines.rename(columns={"within": within}), ("wer a", "wer b")),
        ]
    return out


def _level(level: float) -> str:
    """A confidence level as a percentage with the digits it needs (95 %, 99.7 %)."""
    return f"{100 * level:.3g} %"


def _significant(table: pd.DataFrame) -> str:
    """The significant lines of a comparison table, in words (or that there are none)."""
    found = [v for v in table["verdict"] if "(significant" in v]
    if not found:
        return "Significant differences: none at this number of files.\n"
    return "Significant differences:\n\n" + "".join(f"- {v}\n" for v in found)


def analysis_sections(frame: pd.DataFrame, md_table) -> list[str]:
    """Markdown parts (headings, notes, tables) for the analysis of a run's rows; ``md_table``
    renders a DataFrame (passed in so the summary's formatting stays in one place)."""
    parts: list[str] = []
    files = frame.loc[frame["status"] == "ok", "sample_id"].nunique()
    rough = (
        f" With {files} files these figures are rough: an interval from fewer than "
        f"{FEW_FILES} files mostly says that more recordings are needed."
        if files < FEW_FILES
        else ""
    )
    table = comparison_table(frame)
    if len(table):
        parts += [
            "## Paired differences\n",
            "Two systems (or two conditions) on the files both transcribed. The verdict rests "
            "on one test, the paired bootstrap: files resampled together for both sides, the "
            "difference of pooled WERs (a − b) and its interval; its p-values are Holm-adjusted "
            "over the lines of this table, and each interval is read at the level its adjusted "
            "test is decided at (95 % for a table of one line, wider for more), so an interval "
            f"excludes 0 exactly when the line says significant (p < {DEFAULT_ALPHA:g}). "
            f"Lines with fewer than {files_to_test()} files say they are too few to test (the "
            "test cannot reach significance with them) and are left out of the adjustment. "
            "MAPSSWE, sclite's matched-pairs test on per-file error counts (a normal "
            f"approximation), supports it from {FEW_FILES} files on. Where a difference is not "
            "significant, the files needed are those at which the same test would detect the "
            "measured difference with 80 % power, from the spread of the per-file differences "
            "(stt_eval/report/analysis/power.py)." + rough + "\n",
            *_by_kind(table, md_table),
            _significant(comparisons(frame)),
        ]
    cp = intervals(frame, ("diarizer", "condition", "provider"), "cpwer")
    if len(cp):
        cp["95 % CI"] = [ci(lo, hi) for lo, hi in zip(cp["low"], cp["high"])]
        parts += [
            "## cpWER intervals\n",
            md_table(cp.drop(columns=["low", "high"]), percent=("cpwer",)),
        ]
    terms = terms_table(frame)
    if len(terms):
        for m in ("recall", "ter"):
            text = [ci(lo, hi) for lo, hi in zip(terms.pop(f"{m}_low"), terms.pop(f"{m}_high"))]
            terms.insert(list(terms.columns).index(m) + 1, f"{m} 95 % CI", text)
        parts += [
            "## Domain terms\n",
            "Terms listed per sample, normalized like the text. Recall: reference occurrences "
            "transcribed word for word at the same place (WER alignment); precision: the share "
            "of the hypothesis's occurrences that are such hits; TER = Σ|ref − hyp| "
            "occurrences per term and file / reference occurrences (Johnson et al., ICASSP "
            "1999), so it can exceed 100 %.\n",
            md_table(terms, percent=("recall", "precision", "ter")),
        ]
    review = review_summary(frame)
    if len(review):
        parts += [
            "## Confidence as a review signal\n",
            f"For engines whose words carry a confidence. err_below / err_above: error rate of "
            f"words below / at or above {REVIEW_THRESHOLD:g}; reviewed: share of words a "
            f"review of those below {REVIEW_THRESHOLD:g} reads; caught: share of all "
            "hypothesis-word errors (substitutions, insertions) among them; ECE: expected "
            "calibration error over 10 bins.\n",
            md_table(review, percent=("err_below", "err_above", "reviewed", "caught", "ece")),
        ]
    for kind, title in (
        ("sub", "substitutions (ref → hyp)"),
        ("del", "deletions"),
        ("ins", "insertions"),
    ):
        edits = top_edits(frame, kind, n=5)
        if len(edits):
            parts += [f"## Top {title}\n", md_table(edits, percent=("share",))]
    flags = flags_table(frame)
    if len(flags):
        parts += [
            "## Utterance errors and flags\n",
            "uer: share of transcripts with at least one error. Flags count transcripts that "
            f"are {', '.join(FLAGS)} (see stt_eval/metrics/errors.py).\n",
            md_table(flags, percent=("uer",)),
        ]
    return parts
