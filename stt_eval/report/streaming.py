"""The report's streaming section: per streaming provider × condition, latency percentiles from
the pooled per-word distributions, partial stability, real-time factor, and streaming WER next
to the same provider's batch WER on the same files, with the paired interval of the difference.

A streaming row's provider reads ``<label> (streaming)`` or ``<label> (simulated streaming)``
(a batch engine driven incrementally); its batch twin is the row of ``<label>``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from stt_eval.metrics.stats import paired_bootstrap
from stt_eval.metrics.streaming import PERCENTILES, percentile
from stt_eval.report.analysis.sections import ci, points

_SUFFIX = re.compile(r" \((?:simulated )?streaming\)$")

NOTE = (
    "Times are receipt times on each stream's audio clock (seconds of audio fed when a message "
    'arrived), so they read the same at any pace; at pace "fast" a local engine\'s compute is '
    "queued behind the audio (stt_eval/streaming/local.py), so its latency includes processing. "
    "First partial: from the start of the stream. Per-word latency: the receipt time of the "
    "first message whose transcript so far covers a reference word, minus the word's reference "
    "end (ctm or stt-eval align); final: the same over finals. End of speech → final: the last "
    "final minus the end of the last reference word (pipecat's time to final segment, with "
    "reference speech end instead of its VAD's). Percentiles pool every word of every file; "
    "rewrites: words a later message changed per 100 words shown in partials. Δ WER: streaming "
    "minus batch, pooled over the files both scored, with its 95 % paired bootstrap interval. "
    '"simulated": a batch engine re-decoding a growing buffer (LocalAgreement-2), not a '
    "streaming model.\n"
)


def batch_label(provider: str) -> str:
    """The batch provider a streaming row's provider label is the streaming side of."""
    return _SUFFIX.sub("", provider)


def pooled_values(values: Iterable[Any]) -> list[float]:
    """Every value of a column of per-row distributions (lists), pooled into one."""
    out: list[float] = []
    for v in values:
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            out.extend(float(x) for x in v)
    return out


def _ms(values: list[float], q: float) -> float:
    return round(1000 * percentile(values, q)) if values else math.nan


def _delta(streamed: pd.DataFrame, batch: pd.DataFrame) -> tuple[float, str, float]:
    """(batch WER, streaming − batch WER as points with its interval) on the shared files."""
    cols = ["sample_id", "subs", "dels", "ins", "ref_words"]
    both = streamed[cols].merge(batch[cols], on="sample_id", suffixes=("_s", "_b"))
    if both.empty:
        return math.nan, "–", math.nan
    errs = {k: both[f"subs_{k}"] + both[f"dels_{k}"] + both[f"ins_{k}"] for k in ("s", "b")}
    test = paired_bootstrap(errs["s"], errs["b"], both["ref_words_b"], ("streaming", "batch"))
    diff = test.rate_a - test.rate_b
    return test.rate_b, f"{points(diff)} {ci(test.interval.low, test.interval.high)}", diff


def streaming_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One line per streaming provider × condition (empty when the run streamed nothing)."""
    if "mode" not in frame or not (frame["mode"] == "streaming").any():
        return pd.DataFrame()
    ok = frame[frame["status"] == "ok"]
    lines = []
    for (provider, condition), rows in ok[ok["mode"] == "streaming"].groupby(
        ["provider", "condition"], sort=False
    ):
        twin = ok[
            (ok["mode"] != "streaming")
            & (ok["provider"] == batch_label(provider))
            & (ok["condition"] == condition)
            & (ok["chunking"] == "none")
        ].drop_duplicates("sample_id")
        errors = (rows["subs"] + rows["dels"] + rows["ins"]).sum()
        batch_wer, delta, _ = _delta(rows, twin)
        partial, final = (
            pooled_values(rows["partial_latency_s"]),
            pooled_values(rows["final_latency_s"]),
        )
        eos, first = pooled_values(rows["eos_final_s"]), pooled_values(rows["first_partial_s"])
        shown, rewritten = rows["partial_words"].sum(), rows["rewritten_words"].sum()
        line = {
            "provider": provider,
            "condition": condition,
            "files": len(rows),
            "first partial p50 ms": _ms(first, 50),
            **{f"partial p{q} ms": _ms(partial, q) for q in PERCENTILES},
            **{f"final p{q} ms": _ms(final, q) for q in PERCENTILES},
            **{f"eos→final p{q} ms": _ms(eos, q) for q in PERCENTILES},
            "rewrites /100 words": round(100 * rewritten / shown, 1) if shown else math.nan,
            "RTF": round(rows["processing_s"].sum() / rows["audio_s"].sum(), 3),
            "wer": errors / rows["ref_words"].sum() if rows["ref_words"].sum() else math.nan,
            "batch wer": batch_wer,
            "Δ wer (95 % CI)": delta,
        }
        lines.append(line)
    return pd.DataFrame(lines)


def streaming_sections(frame: pd.DataFrame, md_table: Any) -> list[Any]:
    """The report's streaming section (nothing when the run streamed nothing)."""
    table = streaming_table(frame)
    if table.empty:
        return []
    return [
        "## Streaming latency and accuracy\n",
        NOTE,
        md_table(table, percent=("wer", "batch wer")),
    ]
