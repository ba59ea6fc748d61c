"""How many files it would take to tell two systems apart: the sample size at which the primary
paired test (:mod:`.paired`) would detect the difference measured so far, given how much that
difference varies from file to file.

The pooled difference D = Σ(a_i − b_i) / Σw_i (a_i, b_i: the two systems' errors in file i,
w_i its reference words) is a ratio estimator. Its standard error over n files is, to first
order (the delta method that the paired bootstrap approximates), s / (w̄ √n), where s is the
standard deviation of the per-file residuals r_i = (a_i − b_i) − D · w_i and w̄ the mean file
size. A two-sided test at level α then has power 1 − β once

    |D| · w̄ · √n / s ≥ t_{n−1}(1 − α/2) + t_{n−1}(1 − β),

so the files needed are the smallest such n (Student's t, as the expanded bootstrap interval
uses; the normal quantiles for large n). It assumes the new files vary as the measured ones do
and that the measured D is the true one: a planning figure, not a promise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from stt_eval.metrics.stats import DEFAULT_ALPHA

DEFAULT_POWER = 0.8
"""Chance of detecting the difference that the files-needed estimate aims for."""
MAX_FILES = 1_000_000
"""Beyond this many files the estimate says "more than" rather than a number."""


def _detectable(n: int, effect: float, alpha: float, power: float) -> bool:
    """Whether ``n`` files give the test ``power`` at standardized ``effect`` (|D| w̄ / s)."""
    from scipy.stats import t as student_t  # see stt_eval.metrics.stats._tails

    df = max(n - 1, 1)
    return effect * math.sqrt(n) >= student_t.ppf(1 - alpha / 2, df) + student_t.ppf(power, df)


def files_needed(
    errors_a: Sequence[float],
    errors_b: Sequence[float],
    words: Sequence[float],
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> int | None:
    """Files (in all, not more) at which a paired test at ``alpha`` would detect the pooled
    difference measured on these files with chance ``power``; None when there is no difference
    to detect (equal errors) or fewer than two files to measure its spread. Capped at
    :data:`MAX_FILES` + 1.

    >>> files_needed([12, 8, 11, 9], [10, 10, 10, 10], [100] * 4) is None  # D = 0 pooled
    True

    D = 3 / 300, residuals ±1.5, ±.5 (s = √1.1), effect = .01 · 50 / √1.1 = 0.477; the normal
    answer is ((1.96 + 0.84) / 0.477)² = 34.5, Student's t asks a few files more:

    >>> files_needed([1, 3, 2, 4, 2, 3], [2, 2, 2, 2, 2, 2], [50] * 6)
    37
    """
    a, b = np.asarray(errors_a, float), np.asarray(errors_b, float)
    w = np.asarray(words, float)
    if a.size < 2 or not w.sum():
        return None
    d = (a.sum() - b.sum()) / w.sum()
    if d == 0:
        return None
    spread = float(np.std((a - b) - d * w, ddof=1))
    if spread == 0:  # every file moves in proportion: any two files show it
        return 2
    effect = abs(d) * float(w.mean()) / spread
    z = _normal(1 - alpha / 2) + _normal(power)
    guess = max(2, math.ceil((z / effect) ** 2))  # the normal answer; t needs a few more
    if guess > MAX_FILES:
        return MAX_FILES + 1
    low, high = max(2, guess // 2), guess
    while not _detectable(high, effect, alpha, power):
        low, high = high, high * 2
    while low < high:  # the smallest n that is detectable (it grows monotonically with n)
        mid = (low + high) // 2
        low, high = (mid + 1, high) if not _detectable(mid, effect, alpha, power) else (low, mid)
    return high


def _normal(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))
