"""Boundary errors: the errors a chunked transcript makes that the unchunked one did not, by
how far they lie from the nearest cut.

An error counts as caused by the cut when the unchunked transcript of the same recording,
condition and provider got those reference words right; it is placed in time where the
unchunked transcript heard the word (a hit, so its time is trustworthy) and counted in its
distance-from-cut band (``BANDS_S``). Errors both transcripts make are the engine's, not the
cut's, and are not counted. Without an unchunked transcript nothing is attributed (the row's
count is None, "not attributed"), rather than guessed from a fixed window around the seam:
words 1.5–5 s before a cut that falls mid-speech are lost too, far outside ±1 s.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import numpy as np

from stt_eval.metrics.wer import WordScore
from stt_eval.normalization.rules import DEFAULT_PRESET
from stt_eval.normalization.rules import words as normalized_words
from stt_eval.types import Word

BANDS_S = (1.0, 2.0, 5.0)
"""Upper edges of the distance-from-cut bands: [0, 1), [1, 2), [2, 5) and 5 s or more."""
BAND_LABELS = ("0-1 s", "1-2 s", "2-5 s", "5+ s")
"""The bands as a reader sees them, in ``BoundaryCounts.by_band`` order."""


@dataclass(frozen=True)
class BoundaryCounts:
    """Cut-attributed errors of a chunked transcript per distance-from-cut band (``BAND_LABELS``);
    adds band by band with ``+``."""

    by_band: tuple[int, ...] = (0,) * (len(BANDS_S) + 1)

    def __post_init__(self) -> None:
        if len(self.by_band) != len(BANDS_S) + 1:
            raise ValueError(
                f"BoundaryCounts needs {len(BANDS_S) + 1} bands ({', '.join(BAND_LABELS)}), "
                f"got {self.by_band!r}"
            )

    @property
    def errors(self) -> int:
        """Errors the cuts caused, at any distance."""
        return sum(self.by_band)

    def __add__(self, other: BoundaryCounts) -> BoundaryCounts:
        if not isinstance(other, BoundaryCounts):
            return NotImplemented
        return BoundaryCounts(
            tuple(a + b for a, b in zip(self.by_band, other.by_band, strict=True))
        )

    def __radd__(self, other: object) -> BoundaryCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]


def band(distance_s: float) -> int:
    """The band index of a distance from the nearest cut.

    >>> [band(d) for d in (0.0, 0.99, 1.0, 4.9, 5.0, 60.0)]
    [0, 0, 1, 2, 3, 3]
    """
    return bisect.bisect_right(BANDS_S, distance_s)


def _mid(w: Word) -> float:
    return (w.start + w.end) / 2


def token_times(
    hyp_words: Sequence[Word], hyp_tokens: Sequence[str], normalizer: str, language: str
) -> list[float]:
    """A time for every normalized hypothesis token (what the WER alignment sees).

    Each Word is normalized on its own; its tokens get the word's midpoint. Those per-word tokens
    are matched to the whole-text tokens (they can differ: "twenty five" → "25"), and tokens
    left unmatched take the time interpolated between their matched neighbours. NaN for every
    token when there are no timed words.
    """
    per_word = [
        (tok, _mid(w)) for w in hyp_words for tok in normalized_words(w.text, normalizer, language)
    ]
    times: list[float | None] = [None] * len(hyp_tokens)
    matcher = SequenceMatcher(None, [t for t, _ in per_word], list(hyp_tokens), autojunk=False)
    for block in matcher.get_matching_blocks():
        for d in range(block.size):
            times[block.b + d] = per_word[block.a + d][1]
    known = [i for i, t in enumerate(times) if t is not None]
    if not known:
        fallback = [_mid(w) for w in hyp_words]
        if not fallback:
            return [math.nan] * len(hyp_tokens)
        # no token matched: spread the words' span evenly over the tokens
        lo, hi = min(fallback), max(fallback)
        n = max(1, len(hyp_tokens) - 1)
        return [lo + (hi - lo) * i / n for i in range(len(hyp_tokens))]
    xs = np.array(known, dtype=float)
    ys = np.array([times[i] for i in known], dtype=float)
    return list(np.interp(np.arange(len(hyp_tokens), dtype=float), xs, ys))


def _heard_at(score: WordScore, times: Sequence[float]) -> tuple[list[float | None], set[int]]:
    """Per reference word, the time the transcript got it right at (None: an error); and the
    reference positions an insertion precedes."""
    heard: list[float | None] = [None] * len(score.ref)
    inserted_before: set[int] = set()
    for op in score.ops:
        if op.type == "equal":
            for d in range(op.ref_end - op.ref_start):
                heard[op.ref_start + d] = times[op.hyp_start + d]
        elif op.type == "insert":
            inserted_before.add(op.ref_start)
    return heard, inserted_before


def cut_attributed(
    chunked: WordScore,
    unchunked: WordScore,
    unchunked_words: Sequence[Word],
    cuts: Sequence[float],
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> BoundaryCounts | None:
    """The chunked transcript's errors that the unchunked one did not make, per distance band.

    - a substituted or deleted reference word counts when the unchunked transcript got it
      right, at the time the unchunked transcript heard it;
    - an inserted word counts when the unchunked transcript got its neighbouring reference
      words right and inserted nothing between them, at the midpoint of those neighbours.

    Both scores must align the same normalized reference (the same sample and normalizer).
    None (not attributed) when there are no cuts or the unchunked words carry no times.
    """
    if chunked.ref != unchunked.ref:
        raise ValueError("cut_attributed: the two scores align different references")
    times = token_times(unchunked_words, unchunked.hyp, normalizer, language)
    if not cuts or (times and all(math.isnan(t) for t in times)):
        return None
    heard, unchunked_inserted = _heard_at(unchunked, times)
    sorted_cuts = sorted(cuts)

    def distance(t: float) -> float:
        k = bisect.bisect_left(sorted_cuts, t)
        return min(abs(sorted_cuts[m] - t) for m in (k - 1, k) if 0 <= m < len(sorted_cuts))

    by_band = [0] * (len(BANDS_S) + 1)

    def count(t: float | None, n: int = 1) -> None:
        if t is not None and not math.isnan(t):
            by_band[band(distance(t))] += n

    for op in chunked.ops:
        if op.type in ("substitute", "delete"):
            for r in range(op.ref_start, op.ref_end):
                count(heard[r])
        elif op.type == "insert" and op.ref_start not in unchunked_inserted:
            r = op.ref_start
            around = [heard[k] for k in (r - 1, r) if 0 <= k < len(heard)]
            if around and all(t is not None for t in around):
                count(sum(around) / len(around), op.hyp_end - op.hyp_start)  # type: ignore[arg-type]
    return BoundaryCounts(tuple(by_band))
