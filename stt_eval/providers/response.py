"""The one response policy of the HTTP providers: their ``words`` and ``utterances`` entries as
:class:`Word` and :class:`SpeakerTurn`, and what happens to an entry that is malformed.

The rule, the same for every provider: an entry that is not an object, has no text (words), or
has no finite ``start``/``end`` is **dropped**, and the transcript carries a warning with the
count (it reaches the row's warning). The row fails only when nothing usable is left: no text
and not one well-formed word. Entries with blank text are skipped silently (nothing was said),
and an utterance without a speaker is no turn (no diarization was asked for).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from stt_eval.providers.errors import PermanentProviderError
from stt_eval.types import SpeakerTurn, Transcript, Word

T = TypeVar("T")
Speaker = Callable[[Mapping[str, Any]], "str | None"]


def number(value: Any) -> float | None:
    """A finite number from a response, clamped at 0 (times and confidences are never
    negative); None for anything else (null, a string, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return max(0.0, float(value)) if math.isfinite(value) else None


def time_span(entry: Mapping[str, Any], per_second: float = 1.0) -> tuple[float, float] | None:
    """An entry's (start, end) in seconds with end >= start, or None when either is missing;
    `per_second` is the response's time unit per second (1000 for milliseconds).

    >>> time_span({"start": 240, "end": 640}, per_second=1000), time_span({"start": 1})
    ((0.24, 0.64), None)
    """
    start, end = number(entry.get("start")), number(entry.get("end"))
    if start is None or end is None:
        return None
    return start / per_second, max(start, end) / per_second


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """What came of a list of entries: the kept items and how many entries were dropped."""

    items: tuple[T, ...] = ()
    dropped: int = 0
    given: int = 0


def parse_words(
    entries: Any,
    *,
    text_keys: tuple[str, ...] = ("word",),
    confidence_keys: tuple[str, ...] = ("confidence",),
    per_second: float = 1.0,
    speaker: Speaker | None = None,
) -> Parsed[Word]:
    """A response's word entries as Words, malformed ones dropped and counted.

    The text is the first non-empty string of `text_keys` (stripped); the confidence the first
    of `confidence_keys` present (clamped to [0, 1]); `speaker` labels a word from its entry (None: no speakers).

    >>> p = parse_words([{"word": "hi", "start": 0, "end": 0.5}, {"word": "x"}, 7])
    >>> [w.text for w in p.items], p.dropped, p.given
    (['hi'], 2, 3)
    """
    if not isinstance(entries, list):
        return Parsed()
    words, dropped = [], 0
    for entry in entries:
        span = time_span(entry, per_second) if isinstance(entry, dict) else None
        texts = [entry.get(k) for k in text_keys] if isinstance(entry, dict) else []
        text = next((t for t in texts if isinstance(t, str) and t), None)
        if span is None or text is None:
            dropped += 1
            continue
        if not text.strip():
            continue
        key = next((k for k in confidence_keys if k in entry), None)
        confidence = number(entry[key]) if key else None
        confidence = None if confidence is None else min(1.0, confidence)
        label = speaker(entry) if speaker is not None else None
        words.append(Word(text.strip(), *span, confidence, label))
    return Parsed(tuple(words), dropped, len(entries))


def parse_turns(entries: Any, *, per_second: float = 1.0, speaker: Speaker) -> Parsed[SpeakerTurn]:
    """A response's utterance (segment) entries with a speaker as SpeakerTurns, malformed ones
    dropped and counted; an entry whose `speaker` is None is no turn and no fault."""
    if not isinstance(entries, list):
        return Parsed()
    turns, dropped = [], 0
    for entry in entries:
        if not isinstance(entry, dict):
            dropped += 1
            continue
        label = speaker(entry)
        if label is None:
            continue
        span = time_span(entry, per_second)
        if span is None:
            dropped += 1
            continue
        turns.append(SpeakerTurn(label, *span))
    return Parsed(tuple(turns), dropped, len(entries))


def dropped_warning(provider: str, words: Parsed, turns: Parsed | None = None) -> tuple[str, ...]:
    """The warning a transcript carries when entries were dropped (none when none were).

    >>> dropped_warning("pulse", Parsed((), 2, 10), Parsed((), 0, 3))
    ('pulse: dropped 2 of 10 word entries without text or start/end times',)
    """
    parts = [
        f"{p.dropped} of {p.given} {what} entries"
        for p, what in ((words, "word"), (turns, "utterance"))
        if p is not None and p.dropped
    ]
    if not parts:
        return ()
    return (f"{provider}: dropped {' and '.join(parts)} without text or start/end times",)


def checked_transcript(
    provider: str,
    text: str,
    words: Parsed[Word],
    turns: Parsed[SpeakerTurn] | None = None,
    *,
    language: str | None = None,
    raw: Mapping[str, Any] | None = None,
    extra_words: tuple[Word, ...] | None = None,
) -> Transcript:
    """The Transcript of a parsed answer, with the dropped-entries warning; a
    PermanentProviderError when nothing usable is left (no text and every word entry dropped).
    `extra_words` replace the parsed words when given (words recovered from elsewhere)."""
    kept = words.items if extra_words is None else extra_words
    if words.dropped and not kept and not text.strip():
        raise PermanentProviderError(
            f"{provider}: the answer has no text and all {words.given} word entries lack text "
            "or start/end times — nothing usable to score",
            status=200,
        )
    return Transcript(
        text,
        words=kept,
        turns=turns.items if turns is not None else (),
        language=language,
        raw=raw,
        warnings=dropped_warning(provider, words, turns),
    )
