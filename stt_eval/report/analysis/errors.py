"""Where the errors are: domain-term recall and TER, word confidence as a review signal
(calibration, what a review below a threshold would read and catch), the most frequent edits,
and per-transcript flags with the utterance error rate."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from stt_eval.metrics.confidence import (
    CAUGHT_TARGET,
    N_BINS,
    REVIEW_THRESHOLD,
    ConfidenceBins,
)
from stt_eval.metrics.errors import FLAGS
from stt_eval.metrics.registry import METRICS
from stt_eval.metrics.stats import DEFAULT_LEVEL, DEFAULT_RESAMPLES
from stt_eval.metrics.terms import TermCounts
from stt_eval.report.analysis.intervals import interval_of, ok_rows
from stt_eval.report.systems import by_setting

# --------------------------------------------------------------------------- terms


def terms_table(
    frame: pd.DataFrame,
    by: Sequence[str] = ("provider", "condition"),
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Domain-term recall and TER (with their intervals), precision and false alarms per
    group; empty when no sample lists terms."""
    by = by_setting(frame, by)
    ok = ok_rows(frame)
    if ok.empty or "term_ref" not in ok or not ok["term_ref"].fillna(0).sum():
        return pd.DataFrame()
    records = []
    for key, group in ok.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        terms = METRICS["terms"]
        c = sum((terms.read(r) for r in group.to_dict("records")), TermCounts())
        low, high = interval_of(
            group, "term_recall", ("terms", *key), seed, DEFAULT_LEVEL, n_resamples
        )
        ter_low, ter_high = interval_of(
            group, "ter", ("ter", *key), seed, DEFAULT_LEVEL, n_resamples
        )
        missed = Counter(t for ts in group["terms_missed"] for t in _items(ts))
        records.append(
            {
                **dict(zip(by, key)),
                "terms": c.ref,
                "recognised": c.hits,
                "recall": c.recall,
                "recall_low": low,
                "recall_high": high,
                "precision": c.precision,
                "false_alarms": c.false_alarms,
                "ter": c.ter,
                "ter_low": ter_low,
                "ter_high": ter_high,
                "most_missed": ", ".join(t for t, _ in missed.most_common(3)),
            }
        )
    return pd.DataFrame(records)


def _items(value: object) -> list:
    """A list cell as a list (JSON gives lists, Parquet numpy arrays, missing cells None/NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return list(value)  # type: ignore[call-overload]


# --------------------------------------------------------------------------- confidence


def confidence_bins(frame: pd.DataFrame, by: Sequence[str] = ("provider",)) -> dict:
    """Pooled :class:`ConfidenceBins` per group of ``by`` (groups whose words carry none are
    left out)."""
    ok = ok_rows(frame)
    if ok.empty or "conf_words_by_bin" not in ok:
        return {}
    ok = ok[ok["conf_words_by_bin"].map(lambda v: len(_items(v)) == N_BINS)]
    out = {}
    for key, group in ok.groupby(list(by), sort=False):
        bins = METRICS["confidence"]
        out[key] = sum((bins.read(r) for r in group.to_dict("records")), ConfidenceBins())
    return out


def review_summary(
    frame: pd.DataFrame, by: Sequence[str] = ("provider",), threshold: float = REVIEW_THRESHOLD
) -> pd.DataFrame:
    """Per group: words with a confidence, their error rate below and at-or-above
    ``threshold``, the share of words a review below it would read and of errors it would
    catch, and the expected calibration error."""
    by = by_setting(frame, by)
    records = []
    for key, bins in confidence_bins(frame, by).items():
        key = key if isinstance(key, tuple) else (key,)
        point = bins.review(threshold)
        records.append(
            {
                **dict(zip(by, key)),
                "words": bins.total_words,
                "errors": bins.total_errors,
                "err_below": point.error_rate_below,
                "err_above": point.error_rate_above,
                "reviewed": point.reviewed,
                "caught": point.caught,
                "ece": bins.ece,
            }
        )
    return pd.DataFrame(records)


def review_targets(
    frame: pd.DataFrame,
    by: Sequence[str] = ("provider", "condition"),
    caught: float = CAUGHT_TARGET,
    threshold: float = REVIEW_THRESHOLD,
) -> pd.DataFrame:
    """Per group: what the usual rule (words below ``threshold``) reviews and catches, and the
    lowest threshold that catches at least ``caught`` of the errors with the share of words it
    sends to review."""
    records = []
    for key, bins in confidence_bins(frame, by).items():
        key = key if isinstance(key, tuple) else (key,)
        rule, target = bins.review(threshold), bins.threshold_for(caught)
        records.append(
            {
                **dict(zip(by, key)),
                "words": bins.total_words,
                "errors": bins.total_errors,
                f"reviewed <{threshold:g}": rule.reviewed,
                f"caught <{threshold:g}": rule.caught,
                f"threshold for {caught:.0%}": target.threshold,
                "reviewed there": target.reviewed,
                "caught there": target.caught,
            }
        )
    return pd.DataFrame(records)


def review_curve(frame: pd.DataFrame, by: Sequence[str] = ("provider",)) -> pd.DataFrame:
    """Long table: per group and threshold (bin edges), the share of words reviewed and the
    share of errors caught."""
    by = by_setting(frame, by)
    records = []
    for key, bins in confidence_bins(frame, by).items():
        key = key if isinstance(key, tuple) else (key,)
        for p in bins.review_curve():
            records.append(
                {
                    **dict(zip(by, key)),
                    "threshold": p.threshold,
                    "reviewed": p.reviewed,
                    "caught": p.caught,
                }
            )
    return pd.DataFrame(records)


def reliability(frame: pd.DataFrame, by: Sequence[str] = ("provider",)) -> pd.DataFrame:
    """Long table: per group and confidence bin, words, mean confidence and accuracy."""
    by = by_setting(frame, by)
    records = []
    for key, bins in confidence_bins(frame, by).items():
        key = key if isinstance(key, tuple) else (key,)
        for low, high, n, conf, acc in bins.reliability():
            records.append(
                {
                    **dict(zip(by, key)),
                    "bin": f"{low:.1f}-{high:.1f}",
                    "words": n,
                    "confidence": conf,
                    "accuracy": acc,
                }
            )
    return pd.DataFrame(records)


# --------------------------------------------------------------------------- edits and flags

EDIT_COLUMNS = {"sub": "sub_words", "del": "del_words", "ins": "ins_words"}


def top_edits(
    frame: pd.DataFrame, kind: str = "sub", n: int = 10, by: Sequence[str] = ("provider",)
) -> pd.DataFrame:
    """The ``n`` most frequent substitutions (``ref → hyp``), deletions or insertions per group,
    with their count and share of that group's edits of the kind."""
    by = by_setting(frame, by)
    column = EDIT_COLUMNS.get(kind)
    if column is None:
        raise ValueError(f"unknown edit kind {kind!r}; choose one of: {', '.join(EDIT_COLUMNS)}")
    ok = ok_rows(frame)
    if ok.empty or column not in ok:
        return pd.DataFrame()
    records = []
    for key, group in ok.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        counts = Counter(w for cell in group[column] for w in _items(cell))
        total = sum(counts.values())
        for edit, count in counts.most_common(n):
            records.append(
                {**dict(zip(by, key)), "edit": edit, "count": count, "share": count / total}
            )
    return pd.DataFrame(records)


def flags_table(frame: pd.DataFrame, by: Sequence[str] = ("provider", "condition")) -> pd.DataFrame:
    """Per group: transcripts, the utterance error rate (share of transcripts with at least one
    error: per file for whole recordings, per utterance when each row is one) and how many
    transcripts carry each flag of :data:`stt_eval.metrics.errors.FLAGS`."""
    by = by_setting(frame, by)
    ok = ok_rows(frame)
    if ok.empty:
        return pd.DataFrame()
    has_flags = "flags" in ok
    records = []
    for key, group in ok.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        errors = group[["subs", "dels", "ins"]].sum(axis=1)
        flagged = Counter(f for cell in group["flags"] for f in _items(cell)) if has_flags else {}
        records.append(
            {
                **dict(zip(by, key)),
                "transcripts": len(group),
                "with_errors": int((errors > 0).sum()),
                "uer": float(np.mean(errors > 0)),
                **{f: flagged.get(f, 0) for f in FLAGS},
            }
        )
    return pd.DataFrame(records)
