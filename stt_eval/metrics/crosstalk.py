"""Cross-talk: words one channel transcribes from another channel's leakage.

With each speaker on their own channel, a word the engine hears on speaker A's channel should be
A's. A word counts as **cross-talk** when its midpoint falls outside every reference turn of
A (widened by the collar on each side) and inside a turn of another speaker — A was silent and
someone else was talking, so the engine transcribed the other party's voice leaking into A's
channel. Where the reference has speaker-attributed text (STM), the word must also be one of
the words that other speaker said in a segment around that time, so an engine's hallucination
in A's silence is not blamed on leakage. Each such word is an insertion attributed to the wrong
speaker (cpWER counts it so); this figure isolates it. Counts pool by adding across rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stt_eval.normalization.rules import DEFAULT_PRESET, normalize_text
from stt_eval.types import SpeakerSegment, SpeakerTurn, Word


@dataclass(frozen=True)
class CrosstalkCounts:
    """Words a channel transcribed from another channel's leakage; adds with ``+``."""

    words: int = 0

    def __add__(self, other: CrosstalkCounts) -> CrosstalkCounts:
        if not isinstance(other, CrosstalkCounts):
            return NotImplemented
        return CrosstalkCounts(self.words + other.words)

    def __radd__(self, other: object) -> CrosstalkCounts:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]


def _inside(t: float, turns: Sequence[SpeakerTurn], pad: float) -> bool:
    return any(turn.start - pad <= t <= turn.end + pad for turn in turns)


def crosstalk_words(
    words: Sequence[Word],
    turns: Sequence[SpeakerTurn],
    segments: Sequence[SpeakerSegment] | None = None,
    *,
    collar: float = 0.25,
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> int:
    """How many speaker-labelled words are another speaker's, leaked into this channel.

    >>> ref = [SpeakerTurn("A", 0, 2), SpeakerTurn("B", 3, 5)]
    >>> crosstalk_words([Word("hi", 0.5, 1, speaker="A"), Word("yo", 3.5, 4, speaker="A")], ref)
    1
    """
    by_speaker: dict[str, list[SpeakerTurn]] = {}
    for turn in turns:
        by_speaker.setdefault(turn.speaker, []).append(turn)
    count = 0
    for w in words:
        if w.speaker is None:
            continue
        mid = (w.start + w.end) / 2
        if _inside(mid, by_speaker.get(w.speaker, ()), collar):
            continue
        others = [s for s in by_speaker if s != w.speaker and _inside(mid, by_speaker[s], 0.0)]
        if not others:
            continue
        if segments is not None:
            said = {
                token
                for seg in segments
                if seg.speaker in others and seg.start - collar <= mid <= seg.end + collar
                for token in normalize_text(seg.text, normalizer, language).split()
            }
            heard = normalize_text(w.text, normalizer, language).split()
            if not heard or not all(token in said for token in heard):
                continue
        count += 1
    return count
