"""Paired differences: two providers, or two conditions, on the files both transcribed — the
paired bootstrap (difference of pooled rates, its interval, p) and sclite's MAPSSWE, Holm-adjusted
over every line of a table."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import pandas as pd

from stt_eval.metrics.stats import (
    TEST_RESAMPLES,
    PairedTest,
    adjust,
    mapsswe,
    paired_bootstrap,
    seed_for,
)
from stt_eval.report.analysis.intervals import file_counts, ok_rows
from stt_eval.report.memo import per_rows

GRID = ("condition", "chunking", "merge", "channel_mode")
"""Columns that, with the provider, name one cell of the grid."""


def paired_files(rows_a: pd.DataFrame, rows_b: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per file both sides scored: ``num_a``/``den_a`` and ``num_b``/``den_b`` of ``metric``."""
    a, b = file_counts(rows_a, metric), file_counts(rows_b, metric)
    both = a.merge(b, on="sample_id", suffixes=("_a", "_b"))
    return both[both["den_a"] > 0]


def paired_tests(
    both: pd.DataFrame,
    names: tuple[str, str],
    metric: str,
    seed: int,
    key: object,
    n_resamples: int,
) -> tuple[PairedTest, PairedTest]:
    """The paired bootstrap and MAPSSWE on :func:`paired_files`' counts (``names``: a, b)."""
    label = metric.upper()
    boot = paired_bootstrap(
        both["num_a"],
        both["num_b"],
        both["den_a"],
        names,
        n_resamples=n_resamples,
        seed=seed_for(seed, key),
        metric=label,
    )
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
    ok = ok_rows(frame)
    if ok.empty:
        return pd.DataFrame()
    grid = [c for c in GRID if c in ok and ok[c].nunique() > 1]
    jobs: list[tuple[str, str, pd.DataFrame, pd.DataFrame, tuple[str, str]]] = []
    for within, group in _groups(ok, grid):
        sides = dict(tuple(group.groupby("provider", sort=True)))  # pairs whatever the row order
        for a, b in itertools.combinations(sides, 2):
            jobs.append(("providers", within, sides[a], sides[b], (a, b)))
    if "condition" in grid:
        rest = [c for c in grid if c != "condition"]
        first = ok["condition"].iloc[0]
        for within, group in _groups(ok, ["provider", *rest]):
            sides = dict(tuple(group.groupby("condition", sort=False)))
            for cond, rows in sides.items():
                if first in sides and cond != first:
                    jobs.append(("conditions", within, sides[first], rows, (first, cond)))
    boots, mps, lines = [], [], []
    for kind, within, rows_a, rows_b, names in jobs:
        both = paired_files(rows_a, rows_b, metric)
        if len(both) < 2:
            continue
        boot, mp = paired_tests(both, names, metric, seed, (kind, within, names), n_resamples)
        boots.append(boot)
        mps.append(mp)
        lines.append((kind, within))
    if not lines:
        return pd.DataFrame()
    records = []
    for (kind, within), boot, mp in zip(lines, adjust(boots), adjust(mps)):
        records.append(
            {
                "compared": kind,
                "within": within,
                "a": boot.a,
                "b": boot.b,
                "files": boot.n,
                f"{metric}_a": boot.rate_a,
                f"{metric}_b": boot.rate_b,
                "diff": boot.difference,
                "diff_low": boot.interval.low if boot.interval else math.nan,
                "diff_high": boot.interval.high if boot.interval else math.nan,
                "p_bootstrap": boot.p,
                "p_mapsswe": mp.p,
                "significant": boot.significant,
                "verdict": boot.verdict,
            }
        )
    return pd.DataFrame(records)


def _groups(rows: pd.DataFrame, by: Sequence[str]):
    """(label, rows) per group of ``by`` ("all" when ``by`` is empty), in order of appearance."""
    if not by:
        yield "all", rows
        return
    for key, group in rows.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        yield " / ".join(str(k) for k in key), group
