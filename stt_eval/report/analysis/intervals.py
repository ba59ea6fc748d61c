"""How sure a pooled rate is: its per-file bootstrap interval (files resampled, so a file under
several conditions is one cluster and a TOTAL row's interval resamples files, not cells), and
the rows each rate pools — one per transcript, one per diarizer for DER."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from stt_eval.metrics.registry import rate
from stt_eval.metrics.stats import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    bootstrap_rate,
    seed_for,
)
from stt_eval.report.memo import per_rows
from stt_eval.report.systems import SETTINGS, by_setting
from stt_eval.report.tables import TOTAL, _transcripts, own_diarizers


def ok_rows(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Successful rows, one per transcript (and group of ``by``), as the pooled tables count."""
    return _transcripts(frame[frame["status"] == "ok"], by) if len(frame) else frame


def file_counts(rows: pd.DataFrame, metric: str, by: Sequence[str] = ()) -> pd.DataFrame:
    """Numerator and denominator of the rate ``metric`` summed per file (``sample_id``; per
    group of ``by`` and file with ``by``), for rows that carry its counts and a denominator (no
    reference word or speech: the rate is undefined); files in sorted order, so a resampling
    (which draws files by position) gives the same interval whatever order the rows arrived
    in."""
    kind, ratio = rate(metric)
    columns = [c for c, _ in kind.stored]
    key = [*by, "sample_id"]
    if any(c not in rows for c in columns):
        return pd.DataFrame(columns=[*key, "num", "den"])
    rows = rows[rows[columns].notna().all(axis=1)]
    sums = rows.groupby(key, sort=True)[columns].sum()
    counts = [kind.read(r) for r in sums.to_dict("records")]
    out = sums.index.to_frame(index=False)
    out["num"] = [float(getattr(c, ratio.numerator)) for c in counts]
    out["den"] = [float(getattr(c, ratio.denominator)) for c in counts]
    return out[out["den"] > 0].reset_index(drop=True)  # no denominator: undefined, not 0 or 1


def interval_of(
    rows: pd.DataFrame, metric: str, key: object, seed: int, level: float, n_resamples: int
) -> tuple[float, float]:
    """Low and high end of the per-file bootstrap interval of ``metric`` pooled over ``rows``;
    ``key`` seeds the resampling, so each group draws its own files reproducibly."""
    counts = file_counts(rows, metric)
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
    by = [c for c in by_setting(frame, by) if c in table]  # as the pooled table grouped
    ok = ok_rows(frame, by)
    out = table.copy()
    for metric in metrics:
        rows = der_rows(frame) if metric == "der" else ok
        lows, highs = [], []
        for values in table[list(by)].itertuples(index=False, name=None):
            mask = pd.Series(True, index=rows.index)
            for col, value in zip(by, values):
                if value != TOTAL:
                    mask &= rows[col] == value
            low, high = interval_of(rows[mask], metric, (metric, *values), seed, level, n_resamples)
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
    return own_diarizers(rows).drop_duplicates(["sample_id", "condition", "chunking", "diarizer"])


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
    rows = der_rows(frame) if metric == "der" else ok_rows(frame)
    by = by_setting(rows, by, skip=SETTINGS if metric == "der" else ())  # DER: by diarizer
    columns = rate(metric)[0].column_names
    if rows.empty or any(c not in rows for c in columns) or rows[columns[0]].isna().all():
        return pd.DataFrame()
    records = []
    for key, group in rows.groupby(list(by), sort=False):
        counts = file_counts(group, metric)
        if counts.empty or not counts["den"].sum():
            continue
        key = key if isinstance(key, tuple) else (key,)
        iv = bootstrap_rate(
            counts["num"], counts["den"], level, n_resamples, seed_for(seed, (metric, *key))
        )
        records.append(
            {
                **dict(zip(by, key)),
                "files": len(counts),
                metric: counts["num"].sum() / counts["den"].sum(),
                "low": iv.low,
                "high": iv.high,
            }
        )
    return pd.DataFrame(records)
