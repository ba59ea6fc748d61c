"""The domain-accuracy tables of the summary: does custom vocabulary help (term recall and
precision both ways, WER on − off paired), hallucinations as rates, word-timing accuracy, and
per-utterance mean WER beside pooled WER.

Every rate is pooled from counts with its per-file bootstrap interval
(:func:`~stt_eval.report.analysis.intervals.intervals`); differences are the project's paired
bootstrap (:mod:`~stt_eval.report.analysis.paired`). Nothing here averages rates, except the
per-utterance mean, which is labelled as such (leaderboards differ on it: MU-Bench moved a
provider from 4th to 2nd by switching).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from stt_eval.metrics.stats import DEFAULT_LEVEL, DEFAULT_RESAMPLES, bootstrap_rate, seed_for
from stt_eval.providers.vocabulary import OFF, tag
from stt_eval.report.analysis.intervals import file_counts, intervals, ok_rows
from stt_eval.report.analysis.paired import decide, paired_files

GRID = ("condition", "chunking", "merge")


def _grid(frame: pd.DataFrame) -> list[str]:
    return [c for c in GRID if c in frame]


def _with_ci(frame: pd.DataFrame, by: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """Per group of ``by``: files and each metric pooled, with ``<metric>_low/_high`` (NaN
    where no group has a denominator for it)."""
    tables = {m: intervals(frame, tuple(by), m) for m in metrics}
    found = [t for t in tables.values() if not t.empty]
    if not found:
        return pd.DataFrame()
    out = found[0][[*by, "files"]]
    for metric, table in tables.items():
        if table.empty:
            out = out.assign(
                **{metric: math.nan, f"{metric}_low": math.nan, f"{metric}_high": math.nan}
            )
            continue
        table = table.rename(columns={"low": f"{metric}_low", "high": f"{metric}_high"})
        out = out.merge(table.drop(columns="files"), on=list(by), how="left")
    return out


def vocabulary_table(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per provider and vocabulary (not off) × grid cell: term recall and precision without and
    with it, and the paired bootstrap of WER and term recall, on − off, over the files both
    transcribed."""
    ok = ok_rows(frame)
    if ok.empty or "vocabulary" not in ok or (ok["vocabulary"] == OFF).all():
        return pd.DataFrame()
    grid = _grid(ok)
    records = []
    for (label, vocab), on in ok[ok["vocabulary"] != OFF].groupby(["provider", "vocabulary"]):
        base = label.removesuffix(f"+{tag(vocab)}")
        off_all = ok[(ok["provider"] == base) & (ok["vocabulary"] == OFF)]
        for key, on_cell in on.groupby(grid, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            mask = np.ones(len(off_all), dtype=bool)
            for col, value in zip(grid, key):
                mask &= (off_all[col] == value).to_numpy()
            off = off_all[mask]
            if off.empty:
                continue
            line = {"provider": base, "vocabulary": tag(vocab), **dict(zip(grid, key))}
            both = pd.concat([off, on_cell])
            for metric in ("term_recall", "term_precision"):
                table = intervals(both, ("vocabulary",), metric).set_index("vocabulary")
                for side, name in ((OFF, "off"), (vocab, "on")):
                    got = table.loc[side] if side in table.index else None
                    line[f"{metric} {name}"] = math.nan if got is None else got[metric]
                    line[f"{metric} {name} CI"] = (
                        (math.nan, math.nan) if got is None else (got["low"], got["high"])
                    )
            for metric in ("wer", "term_recall"):
                paired = paired_files(on_cell, off, metric)
                line[f"{metric} files"] = len(paired)
                if len(paired) < 2:
                    line[f"{metric} on − off"], line[f"{metric} on − off CI"] = math.nan, None
                    continue
                (found,) = decide([(paired, (label, base), (label, *key), metric)], seed)
                line[f"{metric} on − off"] = found.test.difference
                interval = found.interval
                line[f"{metric} on − off CI"] = (
                    None if math.isnan(interval.low) else (interval.low, interval.high)
                )
            records.append(line)
    return pd.DataFrame(records)


def hallucination_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per provider × condition × chunking: non-speech minutes, words written there per minute,
    the share of hypothesis words in loops and known phrases per audio minute, with intervals."""
    ok = ok_rows(frame)
    if ok.empty or "nonspeech_s" not in ok or ok["nonspeech_s"].isna().all():
        return pd.DataFrame()
    by = ["provider", *[c for c in ("condition", "chunking") if c in ok]]
    table = _with_ci(ok, by, ("nonspeech_ipm", "loop_share", "phrases_pm"))
    if table.empty:
        return table
    sums = ok.groupby(by, sort=False)[["nonspeech_s", "nonspeech_words"]].sum().reset_index()
    sums["nonspeech_min"] = sums.pop("nonspeech_s") / 60
    return sums.merge(table, on=by, how="right")


def timing_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per provider × condition × chunking × merge: words paired with reference times, start
    and end mean absolute error and the shares within 50/100/200 ms, with intervals."""
    ok = ok_rows(frame)
    if ok.empty or "timed_words" not in ok or ok["timed_words"].isna().all():
        return pd.DataFrame()
    by = ["provider", *_grid(ok)]
    metrics = ("start_mae_s", "end_mae_s", "within_50ms", "within_100ms", "within_200ms")
    table = _with_ci(ok, by, metrics)
    if table.empty:
        return table
    words = ok.groupby(by, sort=False)["timed_words"].sum().reset_index()
    return words.merge(table, on=by, how="right")


def utterance_wer(frame: pd.DataFrame, level: float = DEFAULT_LEVEL, seed: int = 0) -> pd.DataFrame:
    """Per provider × grid cell: pooled WER (the headline: errors / reference words over all
    files) beside the per-utterance mean WER (each file's WER, averaged), each with its
    per-file bootstrap interval (files resampled; for the mean, each file weighs 1)."""
    ok = ok_rows(frame)
    if ok.empty:
        return pd.DataFrame()
    by = ["provider", *[c for c in _grid(ok) if ok[c].nunique() > 1]]
    records = []
    for key, group in ok.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        counts = file_counts(group, "wer")
        if counts.empty:
            continue
        per_file = counts["num"] / counts["den"]
        pooled = bootstrap_rate(
            counts["num"], counts["den"], level, DEFAULT_RESAMPLES, seed_for(seed, ("p", *key))
        )
        mean = bootstrap_rate(
            per_file, np.ones(len(per_file)), level, DEFAULT_RESAMPLES, seed_for(seed, key)
        )
        records.append(
            {
                **dict(zip(by, key)),
                "files": len(counts),
                "pooled wer": counts["num"].sum() / counts["den"].sum(),
                "pooled CI": (pooled.low, pooled.high),
                "per-utterance mean wer": float(per_file.mean()),
                "mean CI": (mean.low, mean.high),
            }
        )
    return pd.DataFrame(records)
