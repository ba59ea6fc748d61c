"""The summary's domain-accuracy sections (tables from :mod:`stt_eval.report.analysis.domain`)
rendered for reading: rates in percent or milliseconds, intervals beside them."""

from __future__ import annotations

import math

import pandas as pd

from stt_eval.metrics.confidence import CAUGHT_TARGET
from stt_eval.metrics.hallucination import COLLAR_S, KNOWN_PHRASES
from stt_eval.report.analysis.domain import (
    hallucination_table,
    timing_table,
    utterance_wer,
    vocabulary_table,
)
from stt_eval.report.analysis.errors import review_targets
from stt_eval.report.analysis.sections import ci


def _pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{100 * value:.1f} %"


def _points_ci(interval: tuple[float, float] | None) -> str:
    if interval is None or any(math.isnan(v) for v in interval):
        return "–"
    return f"[{100 * interval[0]:+.1f}, {100 * interval[1]:+.1f}]"


def _num(value: float, digits: int = 2) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def _shares(table: pd.DataFrame, metric: str) -> list[str]:
    """A pooled share with its interval per line: ``12.5 % [8.0, 17.1] %``."""
    columns = (table[metric], table[f"{metric}_low"], table[f"{metric}_high"])
    return [f"{_pct(v)} {ci(lo, hi)}" for v, lo, hi in zip(*columns)]


def _amounts(table: pd.DataFrame, metric: str, scale: float = 1.0, digits: int = 1) -> list[str]:
    """A pooled amount (per minute, milliseconds) with its interval per line."""
    columns = (table[metric], table[f"{metric}_low"], table[f"{metric}_high"])
    return [
        f"{_num(scale * v, digits)} [{_num(scale * lo, digits)}, {_num(scale * hi, digits)}]"
        for v, lo, hi in zip(*columns)
    ]


def _keys(table: pd.DataFrame) -> list[str]:
    return [c for c in ("provider", "vocabulary", "condition", "chunking", "merge") if c in table]


def vocabulary_section(frame: pd.DataFrame, md_table) -> list[str]:
    table = vocabulary_table(frame)
    if table.empty:
        return []
    shown = table[_keys(table)].copy()
    for metric, name in (("term_recall", "recall"), ("term_precision", "precision")):
        for side in ("off", "on"):
            shown[f"{name} {side}"] = [
                f"{_pct(v)} {ci(*iv)}"
                for v, iv in zip(table[f"{metric} {side}"], table[f"{metric} {side} CI"])
            ]
    for metric, name in (("wer", "WER"), ("term_recall", "recall")):
        shown[f"{name} on − off (points)"] = [
            "–" if math.isnan(d) else f"{100 * d:+.1f} {_points_ci(iv)}"
            for d, iv in zip(table[f"{metric} on − off"], table[f"{metric} on − off CI"])
        ]
    shown["files"] = table["wer files"]
    return [
        "## Custom vocabulary: does it help here?\n",
        "Each provider with the vocabulary sent (its label ends +terms or +<file>) against the "
        "same provider without it, on the files both transcribed. Recall and precision of the "
        "samples' terms, pooled, with 95 % per-file bootstrap intervals; on − off: the paired "
        "bootstrap difference of pooled WER and of term recall with its 95 % interval "
        "(negative WER: the vocabulary helped). Boosting can raise WER elsewhere, so read both. "
        "A provider without a documented vocabulary field (Pulse over HTTP, pocketsphinx) "
        "fails its vocabulary cells with the reason, under Failures.\n",
        md_table(shown, percent=()),
    ]


def hallucination_section(frame: pd.DataFrame, md_table) -> list[str]:
    table = hallucination_table(frame)
    if table.empty:
        return []
    shown = table[[c for c in ("provider", "condition", "chunking") if c in table]].copy()
    shown["non-speech min"] = table["nonspeech_min"].map(lambda v: _num(v))
    shown["words there"] = table["nonspeech_words"].astype(int)
    shown["per min"] = _amounts(table, "nonspeech_ipm")
    shown["loop words"] = _shares(table, "loop_share")
    shown["known phrases per audio min"] = table["phrases_pm"].map(lambda v: _num(v, 2))
    phrases = "; ".join(f'"{p}" ({src})' for p, src in KNOWN_PHRASES)
    return [
        "## Hallucinations\n",
        "Non-speech: the audio heard (with any padding a pad(...) condition added) outside "
        f"the reference's speech (word times, else speaker turns, else the whole recording), "
        f"widened by {COLLAR_S:g} s each side. Per min: hypothesis words whose middle falls "
        "there, per minute of non-speech, with its 95 % interval. Loop words: the share of "
        "hypothesis words in back-to-back repeats beyond the reference's own. Known phrases, "
        f"matched after normalization beyond the reference's own uses: {phrases}.\n",
        md_table(shown, percent=()),
    ]


def timing_section(frame: pd.DataFrame, md_table) -> list[str]:
    table = timing_table(frame)
    if table.empty:
        return []
    shown = table[[c for c in ("provider", "condition", "chunking", "merge") if c in table]].copy()
    shown["files"] = table["files"]
    shown["words"] = table["timed_words"].astype(int)
    shown["start MAE ms"] = _amounts(table, "start_mae_s", 1000, 0)
    shown["end MAE ms"] = _amounts(table, "end_mae_s", 1000, 0)
    for ms in (50, 100, 200):
        shown[f"≤ {ms} ms"] = _shares(table, f"within_{ms}ms")
    return [
        "## Word timing\n",
        "Against the reference word times (Sample.ref_words): hypothesis words paired with "
        "reference words the WER alignment marks correct; mean absolute error of start and "
        "end (sums pooled over files, with 95 % per-file bootstrap intervals) and the share "
        "of words whose start is within 50, 100 and 200 ms.\n",
        md_table(shown, percent=()),
    ]


def utterance_section(frame: pd.DataFrame, md_table) -> list[str]:
    table = utterance_wer(frame)
    if table.empty:
        return []
    shown = table[[c for c in table.columns if c in ("provider", *_keys(table), "files")]].copy()
    shown["pooled WER (headline)"] = [
        f"{_pct(v)} {ci(*iv)}" for v, iv in zip(table["pooled wer"], table["pooled CI"])
    ]
    shown["per-utterance mean WER"] = [
        f"{_pct(v)} {ci(*iv)}" for v, iv in zip(table["per-utterance mean wer"], table["mean CI"])
    ]
    return [
        "## Pooled and per-utterance mean WER\n",
        "Pooled WER (errors / reference words over all files) is the headline everywhere in "
        "this report. The per-utterance mean averages each file's own WER, so a short file "
        "weighs as much as a long one; leaderboards differ on this and rankings can change. "
        "Both with 95 % intervals from resampling files.\n",
        md_table(shown, percent=()),
    ]


def review_section(frame: pd.DataFrame, md_table) -> list[str]:
    table = review_targets(frame)
    if table.empty:
        return []
    rates = [c for c in table.columns if c.startswith(("reviewed", "caught"))]
    return [
        "## Review thresholds\n",
        "Per provider and condition, for engines whose words carry a confidence: what the "
        "usual rule (review words below 0.7) reads and catches, and the lowest threshold "
        f"(a bin edge) that catches at least {CAUGHT_TARGET:.0%} of the hypothesis-word "
        "errors, with the share of words it sends to review. The review_curves figure draws "
        "the whole trade-off.\n",
        md_table(table, percent=tuple(rates)),
    ]


def domain_sections(frame: pd.DataFrame, md_table) -> list[str]:
    """Every domain-accuracy section that has something to show."""
    return [
        *review_section(frame, md_table),
        *utterance_section(frame, md_table),
        *vocabulary_section(frame, md_table),
        *hallucination_section(frame, md_table),
        *timing_section(frame, md_table),
    ]
