"""Analysis tables from a run's rows: confidence intervals on pooled rates, paired differences
between providers and between conditions, domain terms, confidence as a review signal, the most
frequent edits and output flags.

Everything is computed from the count columns of the rows (``stt_eval.metrics`` owns each
formula); intervals and tests resample **files** (``sample_id``): a file under several
conditions is one cluster, so a TOTAL row's interval resamples files, not cells.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from stt_eval.metrics.confidence import EDGES, N_BINS, REVIEW_THRESHOLD, ConfidenceBins
from stt_eval.metrics.errors import FLAGS
from stt_eval.metrics.registry import METRICS, rate
from stt_eval.metrics.stats import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    TEST_RESAMPLES,
    PairedTest,
    adjust,
    bootstrap_rate,
    mapsswe,
    paired_bootstrap,
    seed_for,
)
from stt_eval.metrics.terms import TermCounts
from stt_eval.report.memo import per_rows
from stt_eval.report.tables import TOTAL, _transcripts
from stt_eval.types import CHANNELS_DIARIZER

GRID = ("condition", "chunking", "merge")
"""Columns that, with the provider, name one cell of the grid."""


def _ok(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Successful rows, one per transcript (and group of ``by``), as the pooled tables count."""
    return _transcripts(frame[frame["status"] == "ok"], by) if len(frame) else frame


def _file_counts(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Numerator and denominator of the rate ``metric`` summed per file (``sample_id``), for
    rows that carry its counts; files in sorted order, so a resampling (which draws files by
    position) gives the same interval whatever order the rows arrived in."""
    kind, ratio = rate(metric)
    columns = [c for c, _ in kind.stored]
    if any(c not in rows for c in columns):
        return pd.DataFrame(columns=["sample_id", "num", "den"])
    rows = rows[rows[columns].notna().all(axis=1)]
    sums = rows.groupby("sample_id", sort=True)[columns].sum()
    counts = [kind.read(r) for r in sums.to_dict("records")]
    return pd.DataFrame(
        {
            "sample_id": sums.index,
            "num": [float(getattr(c, ratio.numerator)) for c in counts],
            "den": [float(getattr(c, ratio.denominator)) for c in counts],
        }
    )


def _interval_of(rows: pd.DataFrame, metric: str, key: object, seed: int, level: float,
                 n_resamples: int) -> tuple[float, float]:  # fmt: skip
    counts = _file_counts(rows, metric)
    iv = bootstrap_rate(counts["num"], counts["den"], level, n_resamples, seed_for(seed, key))
    return iv.low, iv.high


@per_rows
def with_intervals(
    table: pd.DataFrame,
    frame: pd.DataFrame,
    by: Sequence[str],
    metrics: Sequence[str] = ("wer",),
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """``table`` (a pooled table grouped by ``by``, TOTAL rows included) with ``<metric>_low``
    and ``<metric>_high`` on every row: the per-file bootstrap interval of its pooled rate
    (for ``der``, over :func:`der_rows`, as :func:`~stt_eval.report.tables.pooled_der` pools)."""
    ok = _ok(frame, by)
    out = table.copy()
    for metric in metrics:
        rows = der_rows(frame) if metric == "der" else ok
        lows, highs = [], []
        for values in table[list(by)].itertuples(index=False, name=None):
            mask = pd.Series(True, index=rows.index)
            for col, value in zip(by, values):
                if value != TOTAL:
                    mask &= rows[col] == value
            low, high = _interval_of(rows[mask], metric, (metric, *values), seed, level,
                                     n_resamples)  # fmt: skip
            lows.append(low)
            highs.append(high)
        out[f"{metric}_low"], out[f"{metric}_high"] = lows, highs
    return out


def der_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows scored for DER, one per file × condition × chunking × diarizer (a local diarizer's
    turns do not depend on the ASR provider), diarizer ``provider:<name>`` for native ones."""
    if "der_total_s" not in frame:
        return frame.iloc[0:0]
    rows = frame[(frame["status"] == "ok") & frame["der_total_s"].notna()].copy()
    own = rows["diarizer"].isin(("provider", CHANNELS_DIARIZER))  # from the provider's words
    rows["diarizer"] = rows["diarizer"].where(~own, rows["diarizer"] + ":" + rows["provider"])
    return rows.drop_duplicates(["sample_id", "condition", "chunking", "diarizer"])


@per_rows
def intervals(
    frame: pd.DataFrame,
    by: Sequence[str] = ("provider", "condition"),
    metric: str = "wer",
    level: float = DEFAULT_LEVEL,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Long table: per group of ``by``, files, the pooled rate and its interval. DER rows are
    de-duplicated per diarizer (see :func:`der_rows`)."""
    rows = der_rows(frame) if metric == "der" else _ok(frame)
    columns = rate(metric)[0].column_names
    if rows.empty or any(c not in rows for c in columns) or rows[columns[0]].isna().all():
        return pd.DataFrame()
    records = []
    for key, group in rows.groupby(list(by), sort=False):
        counts = _file_counts(group, metric)
        if counts.empty or not counts["den"].sum():
            continue
        key = key if isinstance(key, tuple) else (key,)
        iv = bootstrap_rate(counts["num"], counts["den"], level, n_resamples,
                            seed_for(seed, (metric, *key)))  # fmt: skip
        records.append({**dict(zip(by, key)), "files": len(counts),
                        metric: counts["num"].sum() / counts["den"].sum(),
                        "low": iv.low, "high": iv.high})  # fmt: skip
    return pd.DataFrame(records)


# --------------------------------------------------------------------------- paired tests


def _pair(rows_a: pd.DataFrame, rows_b: pd.DataFrame, metric: str) -> pd.DataFrame:
    a, b = _file_counts(rows_a, metric), _file_counts(rows_b, metric)
    both = a.merge(b, on="sample_id", suffixes=("_a", "_b"))
    return both[both["den_a"] > 0]


def _tests(both: pd.DataFrame, names: tuple[str, str], metric: str, seed: int, key: object,
           n_resamples: int) -> tuple[PairedTest, PairedTest]:  # fmt: skip
    label = metric.upper()
    boot = paired_bootstrap(both["num_a"], both["num_b"], both["den_a"], names,
                            n_resamples=n_resamples, seed=seed_for(seed, key), metric=label)  # fmt: skip
    mp = mapsswe(both["num_a"], both["num_b"], both["den_a"], names, metric=label)
    return boot, mp


@per_rows
def comparisons(
    frame: pd.DataFrame,
    metric: str = "wer",
    n_resamples: int = TEST_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired differences on the files both sides transcribed: every pair of providers within a
    condition (× chunking × merge), and every condition against the first one per provider.

    Each line has the paired bootstrap (difference of pooled rates, its interval, p) and sclite's
    MAPSSWE on per-file error counts; p-values are Holm-adjusted over all lines of the table
    (each test separately), and ``verdict`` rests on the adjusted bootstrap.
    """
    ok = _ok(frame)
    if ok.empty:
        return pd.DataFrame()
    grid = [c for c in GRID if c in ok and ok[c].nunique() > 1]
    jobs: list[tuple[str, str, pd.DataFrame, pd.DataFrame, tuple[str, str]]] = []
    for within, group in _groups(ok, grid):
        providers = sorted(set(group["provider"]))  # pairs and their seeds whatever the row order
        for a, b in itertools.combinations(providers, 2):
            jobs.append(("providers", within, group[group["provider"] == a],
                         group[group["provider"] == b], (a, b)))  # fmt: skip
    if "condition" in grid:
        rest = [c for c in grid if c != "condition"]
        first = ok["condition"].iloc[0]
        for within, group in _groups(ok, ["provider", *rest]):
            for cond in dict.fromkeys(group["condition"]):
                if cond != first:
                    jobs.append(("conditions", within, group[group["condition"] == first],
                                 group[group["condition"] == cond], (first, cond)))  # fmt: skip
    boots, mps, lines = [], [], []
    for kind, within, rows_a, rows_b, names in jobs:
        both = _pair(rows_a, rows_b, metric)
        if len(both) < 2:
            continue
        boot, mp = _tests(both, names, metric, seed, (kind, within, names), n_resamples)
        boots.append(boot)
        mps.append(mp)
        lines.append((kind, within))
    if not lines:
        return pd.DataFrame()
    records = []
    for (kind, within), boot, mp in zip(lines, adjust(boots), adjust(mps)):
        records.append({
            "compared": kind, "within": within, "a": boot.a, "b": boot.b, "files": boot.n,
            f"{metric}_a": boot.rate_a, f"{metric}_b": boot.rate_b, "diff": boot.difference,
            "diff_low": boot.interval.low if boot.interval else math.nan,
            "diff_high": boot.interval.high if boot.interval else math.nan,
            "p_bootstrap": boot.p, "p_mapsswe": mp.p, "significant": boot.significant,
            "verdict": boot.verdict,
        })  # fmt: skip
    return pd.DataFrame(records)


def _groups(rows: pd.DataFrame, by: Sequence[str]):
    """(label, rows) per group of ``by`` ("all" when ``by`` is empty), in order of appearance."""
    if not by:
        yield "all", rows
        return
    for key, group in rows.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        yield " / ".join(str(k) for k in key), group


# --------------------------------------------------------------------------- terms


def terms_table(
    frame: pd.DataFrame,
    by: Sequence[str] = ("provider", "condition"),
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Domain-term recall and TER (with their intervals), precision and false alarms per
    group; empty when no sample lists terms."""
    ok = _ok(frame)
    if ok.empty or "term_ref" not in ok or not ok["term_ref"].fillna(0).sum():
        return pd.DataFrame()
    records = []
    for key, group in ok.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        terms = METRICS["terms"]
        c = sum((terms.read(r) for r in group.to_dict("records")), TermCounts())
        low, high = _interval_of(group, "term_recall", ("terms", *key), seed, DEFAULT_LEVEL,
                                 n_resamples)  # fmt: skip
        ter_low, ter_high = _interval_of(group, "ter", ("ter", *key), seed, DEFAULT_LEVEL,
                                         n_resamples)  # fmt: skip
        missed = Counter(t for ts in group["terms_missed"] for t in _items(ts))
        records.append({**dict(zip(by, key)), "terms": c.ref, "recognised": c.hits,
                        "recall": c.recall, "recall_low": low, "recall_high": high,
                        "precision": c.precision, "false_alarms": c.false_alarms, "ter": c.ter,
                        "ter_low": ter_low, "ter_high": ter_high,
                        "most_missed": ", ".join(t for t, _ in missed.most_common(3))})  # fmt: skip
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
    ok = _ok(frame)
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
    records = []
    for key, bins in confidence_bins(frame, by).items():
        key = key if isinstance(key, tuple) else (key,)
        point = bins.review(threshold)
        records.append({**dict(zip(by, key)), "words": bins.total_words,
                        "errors": bins.total_errors, "err_below": point.error_rate_below,
                        "err_above": point.error_rate_above, "reviewed": point.reviewed,
                        "caught": point.caught, "ece": bins.ece})  # fmt: skip
    return pd.DataFrame(records)


def review_curve(frame: pd.DataFrame, by: Sequence[str] = ("provider",)) -> pd.DataFrame:
    """Long table: per group and threshold (bin edges), the share of words reviewed and the
    share of errors caught."""
    records = []
    for key, bins in confidence_bins(frame, by).items():
        key = key if isinstance(key, tuple) else (key,)
        for p in bins.review_curve():
            records.append({**dict(zip(by, key)), "threshold": p.threshold,
                            "reviewed": p.reviewed, "caught": p.caught})  # fmt: skip
    return pd.DataFrame(records)


def reliability(frame: pd.DataFrame, by: Sequence[str] = ("provider",)) -> pd.DataFrame:
    """Long table: per group and confidence bin, words, mean confidence and accuracy."""
    records = []
    for key, bins in confidence_bins(frame, by).items():
        key = key if isinstance(key, tuple) else (key,)
        for low, high, n, conf, acc in bins.reliability():
            records.append({**dict(zip(by, key)), "bin": f"{low:.1f}-{high:.1f}", "words": n,
                            "confidence": conf, "accuracy": acc})  # fmt: skip
    return pd.DataFrame(records)


# --------------------------------------------------------------------------- edits and flags

EDIT_COLUMNS = {"sub": "sub_words", "del": "del_words", "ins": "ins_words"}


def top_edits(
    frame: pd.DataFrame, kind: str = "sub", n: int = 10, by: Sequence[str] = ("provider",)
) -> pd.DataFrame:
    """The ``n`` most frequent substitutions (``ref → hyp``), deletions or insertions per group,
    with their count and share of that group's edits of the kind."""
    column = EDIT_COLUMNS.get(kind)
    if column is None:
        raise ValueError(f"unknown edit kind {kind!r}; choose one of: {', '.join(EDIT_COLUMNS)}")
    ok = _ok(frame)
    if ok.empty or column not in ok:
        return pd.DataFrame()
    records = []
    for key, group in ok.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        counts = Counter(w for cell in group[column] for w in _items(cell))
        total = sum(counts.values())
        for edit, count in counts.most_common(n):
            records.append({**dict(zip(by, key)), "edit": edit, "count": count,
                            "share": count / total})  # fmt: skip
    return pd.DataFrame(records)


def flags_table(frame: pd.DataFrame, by: Sequence[str] = ("provider", "condition")) -> pd.DataFrame:
    """Per group: transcripts, the utterance error rate (share of transcripts with at least one
    error: per file for whole recordings, per utterance when each row is one) and how many
    transcripts carry each flag of :data:`stt_eval.metrics.errors.FLAGS`."""
    ok = _ok(frame)
    if ok.empty:
        return pd.DataFrame()
    has_flags = "flags" in ok
    records = []
    for key, group in ok.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        errors = group[["subs", "dels", "ins"]].sum(axis=1)
        flagged = Counter(f for cell in group["flags"] for f in _items(cell)) if has_flags else {}
        records.append({**dict(zip(by, key)), "transcripts": len(group),
                        "with_errors": int((errors > 0).sum()),
                        "uer": float(np.mean(errors > 0)),
                        **{f: flagged.get(f, 0) for f in FLAGS}})  # fmt: skip
    return pd.DataFrame(records)


__all__ = [
    "EDGES",
    "comparisons",
    "confidence_bins",
    "der_rows",
    "flags_table",
    "intervals",
    "reliability",
    "review_curve",
    "review_summary",
    "terms_table",
    "top_edits",
    "with_intervals",
]
