"""Boundary errors: how many WER errors land near a chunk seam, where chunking hurts.

Chunked transcription loses or doubles words where neighbouring windows hand over; this
counts the errors of a WER alignment within ±``window_s`` of any cut (the seams from
``stt_eval.chunking.cut_points``), so merge strategies can be compared at the seams alone.
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

_EPS = 1e-6
"""Seconds below which two times are the same (an error exactly ``window_s`` away counts)."""


@dataclass(frozen=True)
class BoundaryCounts:
    """Errors of a chunked transcript within ±1 s of a cut; adds with ``+``."""

    errors: int = 0

    def __add__(self, other: BoundaryCounts) -> BoundaryCounts:
        if not isinstance(other, BoundaryCounts):
            return NotImplemented
        return BoundaryCounts(self.errors + other.errors)

    def __radd__(self, other: object) -> BoundaryCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]


def _mid(w: Word) -> float:
    return (w.start + w.end) / 2


def _token_times(
    hyp_words: Sequence[Word], hyp_tokens: Sequence[str], normalizer: str, language: str
) -> list[float]:
    """A time for every normalized hypothesis token (what the WER alignment sees).

    Each Word is normalized on its own; its tokens get the word's midpoint. Those per-word tokens
    are matched to the whole-text tokens (they can differ: "twenty five" → "25"), and tokens
    left unmatched take the time interpolated between their matched neighbours.
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


def boundary_errors(
    score: WordScore,
    hyp_words: Sequence[Word],
    cuts: Sequence[float],
    window_s: float = 1.0,
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> int:
    """Errors (S, D, I) of a WER alignment that lie within ±``window_s`` of any cut.

    Reference words have no times, so each error is placed via the hypothesis: every hyp Word
    is normalized on its own to see which normalized tokens it produced (token → word
    midpoint, see ``_token_times``). A substitution or insertion takes the time of its hyp
    token; a deletion takes the midpoint between the aligned hyp tokens on either side of it
    (the one neighbour at the start or end). ``score`` is a ``WordScore`` from ``align_words`` /
    ``score_text`` over the same hypothesis text, normalized with the same preset.
    """
    if not cuts:
        return 0
    times = _token_times(hyp_words, score.hyp, normalizer, language)
    sorted_cuts = sorted(cuts)

    def near(t: float) -> bool:
        if math.isnan(t):
            return False
        k = bisect.bisect_left(sorted_cuts, t)
        return any(
            abs(sorted_cuts[m] - t) <= window_s + _EPS
            for m in (k - 1, k)
            if 0 <= m < len(sorted_cuts)
        )

    count = 0
    for op in score.ops:
        if op.type in ("substitute", "insert"):
            count += sum(near(times[h]) for h in range(op.hyp_start, op.hyp_end))
        elif op.type == "delete":
            before = times[op.hyp_start - 1] if op.hyp_start > 0 else None
            after = times[op.hyp_start] if op.hyp_start < len(times) else None
            if before is None and after is None:
                continue
            t = (
                (before + after) / 2
                if before is not None and after is not None
                else (before if after is None else after)
            )
            if near(t):
                count += op.ref_end - op.ref_start
    return count
