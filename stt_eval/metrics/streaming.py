"""Streaming latency and stability from a stream's timeline and the reference word times.

Every time is a receipt time on the stream's audio clock (seconds of audio fed when the message
arrived; see :mod:`stt_eval.streaming.events`), so the numbers mean the same at any pace.

- **time to first partial**: receipt time of the first message with text (a partial, or a final
  if none came first), from the start of the stream;
- **per-word latency** (OpenBench's and Deepgram's word-emission definition, on reference times):
  for each reference word, the receipt time of the first message whose transcript so far (the
  finals received plus the current partial) covers it, minus the word's reference end time;
  ``final`` counts finals only. A word is covered once the alignment of that transcript to the
  reference words begun by then pairs a word with it (a hit or a substitution), so a
  misrecognised word still has a latency and a word never transcribed has none. A latency can
  be negative: a word shown before its audio ended;
- **end of speech to final** (pipecat's "time to final segment", TTFS): the receipt time of the
  last final with text minus the end of the last reference word (pipecat takes speech end from
  its VAD minus ``stop_secs``; the reference time is that without the VAD's error);
- **partial stability**: what a reader sees after each message is the finals so far followed
  by the current partial; each partial's words that the next such view does not keep (past
  their common prefix) were rewritten. Rewritten words per 100 words shown in partials.

All of it is kept as distributions (every word's latency, rounded to the millisecond) and counts,
so pooling rows is concatenating and adding, and a percentile of a pool is exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from stt_eval.metrics.wer import align_words
from stt_eval.normalization.rules import words as normalized_words
from stt_eval.types import Word

PERCENTILES = (50, 95, 99)


def _ms(values: Iterable[float]) -> tuple[float, ...]:
    return tuple(round(v, 3) for v in values)


@dataclass(frozen=True)
class StreamingCounts:
    """Latency distributions and stability counts of one or more streams; adds with ``+``."""

    streams: int = 0
    first_partial_s: tuple[float, ...] = ()
    partial_latency_s: tuple[float, ...] = ()
    final_latency_s: tuple[float, ...] = ()
    eos_final_s: tuple[float, ...] = ()
    partial_words: int = 0
    rewritten_words: int = 0

    def __post_init__(self) -> None:
        for name in ("first_partial_s", "partial_latency_s", "final_latency_s", "eos_final_s"):
            object.__setattr__(self, name, _ms(getattr(self, name)))
        if not 0 <= self.rewritten_words <= self.partial_words:
            raise ValueError(
                f"StreamingCounts: {self.rewritten_words} words rewritten of "
                f"{self.partial_words} shown"
            )

    def __add__(self, other: StreamingCounts) -> StreamingCounts:
        if not isinstance(other, StreamingCounts):
            return NotImplemented
        return StreamingCounts(
            self.streams + other.streams,
            self.first_partial_s + other.first_partial_s,
            self.partial_latency_s + other.partial_latency_s,
            self.final_latency_s + other.final_latency_s,
            self.eos_final_s + other.eos_final_s,
            self.partial_words + other.partial_words,
            self.rewritten_words + other.rewritten_words,
        )

    def __radd__(self, other: object) -> StreamingCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]

    @property
    def rewrite_rate(self) -> float:
        """Partial stability: the share of words shown in partials that a later message
        rewrote (× 100: rewrites per 100 words; NaN when no partial had words)."""
        return self.rewritten_words / self.partial_words if self.partial_words else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation, numpy's default); NaN for no values.

    >>> percentile([0.1, 0.2, 0.3, 0.4], 50)
    0.25
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _ref_tokens(ref_words: Sequence[Word], normalizer: str, language: str) -> list[Word]:
    """Each reference word normalized on its own, a token per word it gives, with its times."""
    return [
        Word(token, w.start, w.end)
        for w in ref_words
        for token in normalized_words(w.text, normalizer, language)
    ]


def _covered(
    ref: Sequence[Word], at_s: float, text: str, normalizer: str, language: str
) -> set[int]:
    """Reference token indexes a transcript received at `at_s` pairs a word with (hits and
    substitutions), aligned against the reference words whose audio had begun by then: a
    prefix of the reference aligned to the whole of it could pair its words with any later
    reference words at the same cost."""
    heard = [w.text for w in ref if w.start < at_s]
    hyp = normalized_words(text, normalizer, language)
    out: set[int] = set()
    for op in align_words(heard, hyp).ops:
        if op.type in ("equal", "substitute"):
            out.update(range(op.ref_start, op.ref_end))
    return out


def _word_latencies(
    moments: Sequence[tuple[float, str]], ref: Sequence[Word], normalizer: str, language: str
) -> list[float]:
    """Per reference token: first receipt time whose transcript covers it, minus its end."""
    first: dict[int, float] = {}
    for at, text in moments:
        for k in _covered(ref, at, text, normalizer, language) - first.keys():
            first[k] = at
    return [first[k] - ref[k].end for k in sorted(first)]


def _views(events: Sequence[Any]) -> list[tuple[float, str, int]]:
    """The transcript a reader sees after each message: (receipt time, the finals so far and
    the current partial, how many of its words are the partial's). Messages that arrived at
    the same time are one view (an engine that commits words and shows the rest at once)."""
    finals: list[str] = []
    out: list[tuple[float, str, int]] = []
    for e in events:
        if e.kind not in ("partial", "final"):
            continue
        if e.kind == "final":
            finals.append(e.text)
        tail = e.text.split() if e.kind == "partial" else []
        view = (e.at_s, " ".join([*finals, *tail]), len(tail))
        if out and out[-1][0] == e.at_s:
            out[-1] = view
        else:
            out.append(view)
    return out


def _stability(views: Sequence[tuple[float, str, int]]) -> tuple[int, int]:
    """(words shown in partials, how many of them the next view does not keep)."""
    shown = rewritten = 0
    for (_, before, tail), (_, after, _) in zip(views, views[1:]):
        a, b = before.lower().split(), after.lower().split()
        keep = 0
        while keep < min(len(a), len(b)) and a[keep] == b[keep]:
            keep += 1
        shown += tail
        rewritten += min(tail, len(a) - keep)
    return shown, rewritten


def streaming_counts(
    events: Sequence[Any],
    ref_words: Sequence[Word] | None,
    normalizer: str,
    language: str = "en",
) -> StreamingCounts:
    """The counts of one stream's messages (anything with ``kind``, ``at_s`` and ``text``,
    in receipt order); latencies against reference words need `ref_words` (None: only time to
    first partial and stability)."""
    said = [e for e in events if e.kind in ("partial", "final") and e.text.strip()]
    views = _views(events)
    shown, rewritten = _stability(views)
    first = (said[0].at_s,) if said else ()
    if not ref_words:
        return StreamingCounts(1, first, partial_words=shown, rewritten_words=rewritten)
    ref = _ref_tokens(ref_words, normalizer, language)
    any_moment = [(at, text) for at, text, _ in views]
    finals = [e for e in events if e.kind == "final"]
    final_moment = [
        (e.at_s, " ".join(f.text for f in finals[: i + 1])) for i, e in enumerate(finals)
    ]
    last_final = [e.at_s for e in said if e.kind == "final"][-1:]
    speech_end = max((w.end for w in ref), default=None)
    return StreamingCounts(
        1,
        first,
        tuple(_word_latencies(any_moment, ref, normalizer, language)),
        tuple(_word_latencies(final_moment, ref, normalizer, language)),
        tuple(t - speech_end for t in last_final) if speech_end is not None else (),
        shown,
        rewritten,
    )
