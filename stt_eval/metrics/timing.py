"""Word-timing accuracy against reference word times (``Sample.ref_words``: a CTM or a forced
alignment): what captions and search hang on, and what chunk merges can shift.

Hypothesis words are paired with reference words by the WER alignment of their normalized
tokens (each provider word and each reference word normalized on its own, as for confidence;
a pair is a reference word and the first hypothesis word aligned to it as correct). Counts per
transcript (:class:`TimingCounts`, which add, so pooling files is adding sums, never averaging
averages):

- ``matched`` pairs, the sums of ``|Δstart|`` and ``|Δend|`` (mean absolute errors from them);
- pairs whose start is within 50, 100 and 200 ms (:data:`TOLERANCES_MS`);
- drift: the signed start error summed per :data:`DRIFT_BIN_S` s of the recording (by the
  reference word's start; the last bin takes the rest), so a chunk whose words sit 0.4 s late
  shows as a step in its bins at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stt_eval.metrics.wer import align_words
from stt_eval.normalization.rules import DEFAULT_PRESET
from stt_eval.normalization.rules import words as normalized_words
from stt_eval.types import Word

TOLERANCES_MS = (50, 100, 200)
DRIFT_BIN_S = 15.0
DRIFT_BINS = 40
"""Drift bins of 15 s: ten minutes, the last bin holding everything after 9 min 45 s."""


@dataclass(frozen=True)
class TimingCounts:
    """Paired words, absolute start/end error sums, pairs within each tolerance, and signed
    start error per drift bin; adds with ``+``."""

    matched: int = 0
    start_abs_s: float = 0.0
    end_abs_s: float = 0.0
    within_50: int = 0
    within_100: int = 0
    within_200: int = 0
    drift_n: tuple[int, ...] = (0,) * DRIFT_BINS
    drift_sum_s: tuple[float, ...] = (0.0,) * DRIFT_BINS

    def __post_init__(self) -> None:
        for name in ("drift_n", "drift_sum_s"):
            value = tuple(getattr(self, name))
            if len(value) != DRIFT_BINS:
                raise ValueError(f"TimingCounts: {name} has {len(value)} bins, not {DRIFT_BINS}")
            object.__setattr__(self, name, value)
        if not self.matched >= max(self.within_200, self.within_100, self.within_50, 0):
            raise ValueError(f"TimingCounts: more words within a tolerance than {self.matched}")

    def __add__(self, other: TimingCounts) -> TimingCounts:
        if not isinstance(other, TimingCounts):
            return NotImplemented
        return TimingCounts(
            self.matched + other.matched,
            self.start_abs_s + other.start_abs_s,
            self.end_abs_s + other.end_abs_s,
            self.within_50 + other.within_50,
            self.within_100 + other.within_100,
            self.within_200 + other.within_200,
            tuple(a + b for a, b in zip(self.drift_n, other.drift_n)),
            tuple(a + b for a, b in zip(self.drift_sum_s, other.drift_sum_s)),
        )

    def __radd__(self, other: object) -> TimingCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]

    @property
    def start_mae_s(self) -> float:
        return self.start_abs_s / self.matched if self.matched else float("nan")

    @property
    def end_mae_s(self) -> float:
        return self.end_abs_s / self.matched if self.matched else float("nan")

    @property
    def within_50ms(self) -> float:
        return self.within_50 / self.matched if self.matched else float("nan")

    @property
    def within_100ms(self) -> float:
        return self.within_100 / self.matched if self.matched else float("nan")

    @property
    def within_200ms(self) -> float:
        return self.within_200 / self.matched if self.matched else float("nan")

    def drift(self) -> list[tuple[float, int, float]]:
        """Per bin with words: (bin start s, words, mean signed start error s)."""
        return [
            (k * DRIFT_BIN_S, n, s / n)
            for k, (n, s) in enumerate(zip(self.drift_n, self.drift_sum_s))
            if n
        ]


def _tokens(words: Sequence[Word], normalizer: str, language: str) -> tuple[list[str], list[int]]:
    tokens, owners = [], []
    for i, w in enumerate(words):
        for tok in normalized_words(w.text, normalizer, language):
            tokens.append(tok)
            owners.append(i)
    return tokens, owners


def paired_words(
    ref_words: Sequence[Word],
    hyp_words: Sequence[Word],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> list[tuple[Word, Word]]:
    """(reference word, hypothesis word) pairs the alignment marks correct, in order."""
    ref, ref_owner = _tokens(ref_words, normalizer, language)
    hyp, hyp_owner = _tokens(hyp_words, normalizer, language)
    pairs: dict[int, int] = {}
    for op in align_words(ref, hyp).ops:
        if op.type == "equal":
            for k in range(op.ref_end - op.ref_start):
                pairs.setdefault(ref_owner[op.ref_start + k], hyp_owner[op.hyp_start + k])
    return [(ref_words[r], hyp_words[h]) for r, h in sorted(pairs.items())]


def timing_counts(
    ref_words: Sequence[Word] | None,
    hyp_words: Sequence[Word],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> TimingCounts | None:
    """Timing counts of one transcript; None without reference word times."""
    if not ref_words:
        return None
    n, sums = [0] * DRIFT_BINS, [0.0] * DRIFT_BINS
    matched, start_abs, end_abs, within = 0, 0.0, 0.0, [0] * len(TOLERANCES_MS)
    for ref, hyp in paired_words(ref_words, hyp_words, normalizer, language):
        d = hyp.start - ref.start
        matched += 1
        start_abs += abs(d)
        end_abs += abs(hyp.end - ref.end)
        for k, ms in enumerate(TOLERANCES_MS):
            within[k] += abs(d) <= ms / 1000 + 1e-9
        b = min(max(int(ref.start // DRIFT_BIN_S), 0), DRIFT_BINS - 1)
        n[b] += 1
        sums[b] += d
    return TimingCounts(
        matched,
        round(start_abs, 6),
        round(end_abs, 6),
        *within,
        tuple(n),
        tuple(round(s, 6) for s in sums),
    )
