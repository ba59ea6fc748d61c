"""Paired differences: two providers, or two conditions, on the files both transcribed.

One primary test decides every verdict: the **paired bootstrap over files** of the difference
of pooled rates (:func:`~stt_eval.metrics.stats.paired_bootstrap`). It is chosen over sclite's
MAPSSWE because it tests the very number the report shows (the pooled WER, errors over words,
not a mean of per-file error counts), it resamples whole files (words within a file are not
independent), it assumes no normal distribution of differences (MAPSSWE's Z is read from the
normal curve, which with a handful of files gives p-values far too small), and its interval and
p-value come from one distribution, so they cannot disagree.

Over the lines of one table p-values are Holm-adjusted, and each line's interval is read at the
level its adjusted test is decided at (1 − α · p / p_adjusted), so an interval excludes 0 exactly
when the verdict says "significant" (where that level is finer than the resamples resolve — a
bootstrap p cannot fall below 2 / (resamples + 1) — no interval is shown rather than one that
disagrees). Lines with too few files for the test ever to reach p < α
say so ("too few files to test") and are left out of the family (Tarone, Biometrics 46, 1990:
a test that cannot reject only dilutes the others). MAPSSWE, Holm-adjusted on its own, is a
supporting column, shown from :data:`FEW_FILES` files on. Everything is computed on files in
sorted order with seeds named after the line, so row order changes nothing.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from stt_eval.metrics.stats import (
    DEFAULT_ALPHA,
    DEFAULT_LEVEL,
    TEST_RESAMPLES,
    Interval,
    PairedTest,
    adjust,
    mapsswe,
    paired_bootstrap,
    seed_for,
)
from stt_eval.report.analysis.intervals import file_counts, ok_rows
from stt_eval.report.analysis.power import MAX_FILES, files_needed
from stt_eval.report.memo import per_rows

GRID = ("condition", "chunking", "merge", "channel_mode")
"""Columns that, with the provider, name one cell of the grid (never pooled across)."""
FEW_FILES = 10
"""Below this many files intervals are flagged as rough and MAPSSWE (a normal approximation) is
not shown."""
BASELINE = "clean"
"""The condition others are compared with, when the run has it (else the first in sorted order)."""


def paired_files(rows_a: pd.DataFrame, rows_b: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per file both sides scored, in sorted order: ``num_a``/``den_a`` and ``num_b``/``den_b``
    of ``metric``."""
    return pair_counts(file_counts(rows_a, metric), file_counts(rows_b, metric))


def pair_counts(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Two sides' :func:`file_counts` on the files both have, in sorted order."""
    a, b = (side[["sample_id", "num", "den"]] for side in (a, b))
    both = a.merge(b, on="sample_id", suffixes=("_a", "_b")).sort_values("sample_id")
    return both[both["den_a"] > 0].reset_index(drop=True)


@functools.lru_cache(maxsize=256)
def files_to_test(alpha: float = DEFAULT_ALPHA, n_resamples: int = TEST_RESAMPLES) -> int:
    """The fewest files with which the paired bootstrap can reach p < ``alpha`` at all (every
    file favouring one side): 4 at α = 0.05 (3 files give p ≈ 0.09 at best), more at the
    smaller α a Holm-adjusted line must beat."""
    n = 2
    while paired_bootstrap([0] * n, [1] * n, [1] * n, n_resamples=n_resamples).p_value >= alpha:
        n += 1
    return n


@dataclass(frozen=True)
class Line:
    """One paired comparison as a report shows it: the primary test (Holm-adjusted; its p is
    NaN when the line has too few files to test), the difference's interval at the level that
    test is decided at, supporting MAPSSWE (None below :data:`FEW_FILES` files), and the files
    a test at that level would need to detect the measured difference with 80 % power."""

    test: PairedTest
    interval: Interval
    mapsswe: PairedTest | None
    needed: int | None
    min_files: int

    @property
    def testable(self) -> bool:
        return self.test.n >= self.min_files

    @property
    def verdict(self) -> str:
        """The line in words, resting on the primary test alone."""
        t = self.test
        rates = f"{t.metric} {pct(t.rate_a)} vs {pct(t.rate_b)}"
        if not self.testable:
            return (
                f"too few files to test: {t.n} (the paired bootstrap cannot reach "
                f"p < {t.alpha:g} with fewer than {self.min_files})"
            )
        if math.isnan(t.p):
            return f"cannot tell {t.a} from {t.b} ({rates}): the test is undefined on these files"
        if t.better is not None:
            worse = t.b if t.better == t.a else t.a
            return f"{t.better} is better than {worse} (significant: {rates}, p = {t.p:.3g})"
        return f"no significant difference ({rates}, p = {t.p:.3g}){more_files(self.needed, t.n)}"

    @property
    def finding(self) -> str:
        """The verdict in a few words, for a table whose other columns hold the numbers."""
        t = self.test
        if not self.testable:
            return "too few files to test"
        if math.isnan(t.p):
            return "cannot tell"
        if t.better is not None:
            return f"{t.better} better (significant)"
        return "no significant difference" + more_files(self.needed, t.n)


def more_files(needed: int | None, files: int) -> str:
    """ "; about N more files would be needed" (or why there is no such number)."""
    if needed is None:
        return "; the two made the same errors in total, so no number of files would separate them"
    if needed > MAX_FILES:
        return "; the difference is negligible next to its file-to-file spread"
    if needed <= files:
        return ""
    return f"; about {needed - files} more files would be needed"


def pct(rate: float) -> str:
    """A rate as a percentage with one decimal; – when undefined."""
    return "–" if math.isnan(rate) else f"{100 * rate:.1f} %"


def decide(
    pairs: Sequence[tuple[pd.DataFrame, tuple[str, str], object, str]],
    seed: int = 0,
    n_resamples: int = TEST_RESAMPLES,
) -> list[Line]:
    """Each pair of sides (:func:`paired_files`' counts, the two names, a key naming the line,
    which seeds its resampling, and the metric) tested as one family, in the order given."""
    alpha = 1 - DEFAULT_LEVEL
    least = files_to_test(alpha, n_resamples)
    boots, mps = [], []
    for both, names, key, metric in pairs:
        args, label = (both["num_a"], both["num_b"], both["den_a"], names), metric.upper()
        boots.append(
            paired_bootstrap(*args, n_resamples=n_resamples, seed=seed_for(seed, key), metric=label)
        )
        mps.append(mapsswe(*args, metric=label))
    family = [i for i, b in enumerate(boots) if b.n >= least]
    adjusted = dict(zip(family, adjust([boots[i] for i in family])))
    mp_adjusted = dict(zip(family, adjust([mps[i] for i in family])))
    lines = []
    for i, (both, _, key, _) in enumerate(pairs):
        test = adjusted.get(i, boots[i])
        interval = test.interval or Interval(math.nan, math.nan)
        if i not in adjusted:  # outside the family: no inference, neither p nor interval
            test = replace(test, p_value=math.nan)
            interval = Interval(math.nan, math.nan)
        at = alpha * test.p_value / test.p if test.p > 0 else alpha  # the α this line must beat
        if i in adjusted and at < alpha:
            interval = paired_bootstrap(
                both["num_a"],
                both["num_b"],
                both["den_a"],
                level=1 - at,
                n_resamples=n_resamples,
                seed=seed_for(seed, key),
            ).interval
        if (interval.high < 0 or interval.low > 0) != test.significant:
            interval = Interval(math.nan, math.nan)  # a level finer than the resamples resolve
        mp = mp_adjusted.get(i) if test.n >= FEW_FILES else None
        needed = files_needed(both["num_a"], both["num_b"], both["den_a"], at)
        if needed is not None and i in adjusted:  # and enough files for the test to reach `at`
            needed = max(needed, files_to_test(round(at, 6), n_resamples))
        lines.append(Line(test, interval, mp, needed, least))  # type: ignore[arg-type]
    return lines


@per_rows
def comparisons(
    frame: pd.DataFrame,
    metric: str = "wer",
    n_resamples: int = TEST_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired differences on the files both sides transcribed: every pair of providers within a
    condition (× chunking × merge), and every condition against the baseline (``clean``, else
    the first in sorted order) per provider, tested as one family by :func:`decide`.

    Columns: what is compared, the grid cell it is within (``within`` and one column per grid
    column), the sides, files, rates, ``diff`` = a − b with its interval (at ``level``),
    ``p_bootstrap`` (adjusted; the primary test), ``p_mapsswe`` (supporting), ``significant``,
    ``files_needed`` and ``verdict``.
    """
    ok = ok_rows(frame)
    if ok.empty:
        return pd.DataFrame()
    grid = [c for c in GRID if c in ok and ok[c].nunique() > 1]
    ok = file_counts(ok, metric, [*grid, "provider"])  # per file once, not once per pair
    jobs: list[tuple[str, dict, pd.DataFrame, pd.DataFrame, tuple[str, str]]] = []
    for within, group in _groups(ok, grid):
        sides = dict(tuple(group.groupby("provider", sort=True)))  # pairs whatever the row order
        for a, b in itertools.combinations(sides, 2):
            jobs.append(("providers", within, sides[a], sides[b], (a, b)))
    if "condition" in grid:
        rest = [c for c in grid if c != "condition"]
        conditions = set(ok["condition"])
        first = BASELINE if BASELINE in conditions else min(conditions)
        for within, group in _groups(ok, ["provider", *rest]):
            sides = dict(tuple(group.groupby("condition", sort=True)))
            for cond, rows in sides.items():
                if first in sides and cond != first:
                    jobs.append(("conditions", within, sides[first], rows, (first, cond)))
    pairs, kept = [], []
    for kind, within, counts_a, counts_b, names in jobs:
        both = pair_counts(counts_a, counts_b)
        if len(both) >= 2:
            label = " / ".join(within.values()) or "all"
            pairs.append((both, names, (kind, label, names), metric))
            kept.append((kind, within, label))
    if not pairs:
        return pd.DataFrame()
    records = []
    for (kind, within, label), line in zip(kept, decide(pairs, seed, n_resamples)):
        t, iv = line.test, line.interval
        records.append(
            {
                "compared": kind,
                "within": label,
                **within,
                "a": t.a,
                "b": t.b,
                "files": t.n,
                f"{metric}_a": t.rate_a,
                f"{metric}_b": t.rate_b,
                "diff": t.difference,
                "diff_low": iv.low,
                "diff_high": iv.high,
                "level": iv.level,
                "p_bootstrap": t.p,
                "p_mapsswe": line.mapsswe.p if line.mapsswe else math.nan,
                "significant": t.significant,
                "files_needed": line.needed,
                "verdict": line.verdict,
                "finding": line.finding,
            }
        )
    return pd.DataFrame(records)


def _groups(rows: pd.DataFrame, by: Sequence[str]):
    """({column: value}, rows) per group of ``by`` in sorted order (one empty group when ``by``
    is empty)."""
    if not by:
        yield {}, rows
        return
    for key, group in rows.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        yield {c: str(k) for c, k in zip(by, key)}, group
