"""Word confidence as a review signal: is a provider's confidence worth routing words on?

The common production rule sends words below a confidence threshold (:data:`REVIEW_THRESHOLD`,
0.7) to a human. Whether that works depends on the provider: its confidences must be low where
its errors are. This module measures that from what is scored anyway.

Which hypothesis words are errors comes from the WER alignment: a hypothesis word is an error
when it is substituted or inserted (a deletion has no hypothesis word to carry a confidence).
Each provider word is normalized on its own (same preset as WER) and the reference is aligned to
the concatenation of those words' tokens, so every token belongs to exactly one provider word and
its confidence; a word is an error if any of its tokens is. (This alignment can differ from the
WER one where normalization joins words, e.g. "twenty five" → "25"; words that normalize to
nothing, like "um", are not counted.)

Counts per confidence bin (:class:`ConfidenceBins`, 10 equal bins over [0, 1], 1.0 in the last)
of words, errors and the sum of confidences; they add, so ``sum()`` pools files and a
provider's curve is made from pooled counts. From them:

- the error rate among words below vs at-or-above a threshold (:meth:`ConfidenceBins.split`);
- a reliability curve: per bin, mean confidence vs the share of words that are correct, and the
  expected calibration error ECE = Σ_b (n_b / N) · |accuracy_b − confidence_b| (Guo et al., "On
  Calibration of Modern Neural Networks", ICML 2017, eq. 3);
- the review curve: for each threshold (the bin edges), the share of words sent to review and
  the share of all errors among them — what a reviewer would catch.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

from stt_eval.metrics.wer import align_words
from stt_eval.normalization.rules import DEFAULT_PRESET
from stt_eval.normalization.rules import words as normalized_words
from stt_eval.types import Word

N_BINS = 10
REVIEW_THRESHOLD = 0.7
"""The usual rule: words with confidence below this go to human review."""
CAUGHT_TARGET = 0.8
"""The share of errors a review should catch, for the threshold the report proposes."""
EDGES = tuple(k / N_BINS for k in range(N_BINS + 1))
"""Bin edges 0.0, 0.1, …, 1.0; bin k holds confidences in [EDGES[k], EDGES[k+1])."""


def bin_of(confidence: float) -> int:
    """The bin of a confidence in [0, 1] (1.0 falls in the last bin).

    >>> bin_of(0.0), bin_of(0.69999), bin_of(0.7), bin_of(1.0)
    (0, 6, 7, 9)
    """
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence={confidence} is outside [0, 1]")
    return min(bisect.bisect_right(EDGES, confidence) - 1, N_BINS - 1)


def _edge_index(threshold: float) -> int:
    for k, edge in enumerate(EDGES):
        if math.isclose(edge, threshold, abs_tol=1e-9):
            return k
    raise ValueError(
        f"threshold={threshold} is not a bin edge; use one of {', '.join(f'{e:g}' for e in EDGES)}"
    )


@dataclass(frozen=True)
class ReviewPoint:
    """What a threshold does: ``reviewed`` share of words below it, ``caught`` share of all
    errors among them, and the error rate below and at-or-above it."""

    threshold: float
    reviewed: float
    caught: float
    error_rate_below: float
    error_rate_above: float


@dataclass(frozen=True)
class ConfidenceBins:
    """Words, errors and summed confidence per bin (:data:`N_BINS` bins); adds with ``+``."""

    words: tuple[int, ...] = (0,) * N_BINS
    errors: tuple[int, ...] = (0,) * N_BINS
    conf_sum: tuple[float, ...] = (0.0,) * N_BINS

    def __post_init__(self) -> None:
        for name in ("words", "errors", "conf_sum"):
            value = tuple(getattr(self, name))
            if len(value) != N_BINS:
                raise ValueError(f"ConfidenceBins: {name} has {len(value)} bins, not {N_BINS}")
            object.__setattr__(self, name, value)
        for k, (n, e) in enumerate(zip(self.words, self.errors)):
            if n < 0 or e < 0 or e > n:
                raise ValueError(f"ConfidenceBins: bin {k} has {e} errors among {n} words")

    def __add__(self, other: ConfidenceBins) -> ConfidenceBins:
        if not isinstance(other, ConfidenceBins):
            return NotImplemented
        return ConfidenceBins(
            tuple(a + b for a, b in zip(self.words, other.words)),
            tuple(a + b for a, b in zip(self.errors, other.errors)),
            tuple(a + b for a, b in zip(self.conf_sum, other.conf_sum)),
        )

    def __radd__(self, other: object) -> ConfidenceBins:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]

    @property
    def total_words(self) -> int:
        return sum(self.words)

    @property
    def total_errors(self) -> int:
        return sum(self.errors)

    def split(self, threshold: float = REVIEW_THRESHOLD) -> tuple[int, int, int, int]:
        """(words below, errors below, words at or above, errors at or above) a bin edge."""
        k = _edge_index(threshold)
        below_w, below_e = sum(self.words[:k]), sum(self.errors[:k])
        return below_w, below_e, self.total_words - below_w, self.total_errors - below_e

    def review(self, threshold: float = REVIEW_THRESHOLD) -> ReviewPoint:
        """Send every word below ``threshold`` to review: how many words, how many errors."""
        bw, be, aw, ae = self.split(threshold)
        return ReviewPoint(
            threshold,
            reviewed=_ratio(bw, self.total_words),
            caught=_ratio(be, self.total_errors),
            error_rate_below=_ratio(be, bw),
            error_rate_above=_ratio(ae, aw),
        )

    def review_curve(self) -> list[ReviewPoint]:
        """:meth:`review` at every bin edge, 0 (nothing reviewed) to 1 (everything: the bins
        cannot tell a confidence of exactly 1.0 from 0.95, so it counts as below 1.0)."""
        return [self.review(edge) for edge in EDGES]

    def threshold_for(self, caught: float) -> ReviewPoint:
        """The lowest bin-edge threshold whose review catches at least ``caught`` of all
        errors (what a team tunes: "catch 80 % of errors"), and what it sends to review."""
        if not 0.0 < caught <= 1.0:
            raise ValueError(f"caught={caught} must be a share in (0, 1]")
        return next(
            (p for p in self.review_curve() if p.caught >= caught - 1e-12), self.review(1.0)
        )

    def reliability(self) -> list[tuple[float, float, int, float, float]]:
        """Per bin: (low edge, high edge, words, mean confidence, accuracy); NaN when empty."""
        return [
            (EDGES[k], EDGES[k + 1], n, _ratio(self.conf_sum[k], n), _ratio(n - e, n))
            for k, (n, e) in enumerate(zip(self.words, self.errors))
        ]

    @property
    def ece(self) -> float:
        """Expected calibration error over the bins; NaN without words."""
        total = self.total_words
        if not total:
            return float("nan")
        return sum(n / total * abs(acc - conf) for _, _, n, conf, acc in self.reliability() if n)


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def word_errors(
    reference: Sequence[str],
    words: Sequence[Word],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> list[tuple[Word, bool]]:
    """Each provider word that normalizes to something, with whether it is an error.

    ``reference`` is the normalized reference (``WordScore.ref``).
    """
    owners: list[int] = []
    tokens: list[str] = []
    for i, w in enumerate(words):
        for tok in normalized_words(w.text, normalizer, language):
            owners.append(i)
            tokens.append(tok)
    score = align_words(reference, tokens)
    wrong = [False] * len(tokens)
    for op in score.ops:
        if op.type in ("substitute", "insert"):
            for h in range(op.hyp_start, op.hyp_end):
                wrong[h] = True
    error: dict[int, bool] = {}
    for owner, bad in zip(owners, wrong):
        error[owner] = error.get(owner, False) or bad
    return [(words[i], bad) for i, bad in sorted(error.items())]


def confidence_bins(
    reference: Sequence[str],
    words: Sequence[Word],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> ConfidenceBins | None:
    """Binned words and errors of one transcript; None when no word carries a confidence."""
    if not any(w.confidence is not None for w in words):
        return None
    n, e, s = [0] * N_BINS, [0] * N_BINS, [0.0] * N_BINS
    for word, bad in word_errors(reference, words, normalizer, language):
        if word.confidence is None:
            continue
        k = bin_of(word.confidence)
        n[k] += 1
        e[k] += int(bad)
        s[k] += word.confidence
    return ConfidenceBins(tuple(n), tuple(e), tuple(s))
