"""What a diarizer is, and how its speaker turns meet an ASR transcript's words.

A diarizer answers "who spoke when" as :class:`SpeakerTurn` s; an ASR engine answers "what was
said when" as :class:`Word` s. :func:`assign_speakers` joins the two by time overlap, and
:func:`render_transcript` prints the result as a speaker-labelled transcript.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from stt_eval.audio.load import AudioClip
from stt_eval.types import SpeakerTurn, Word


@runtime_checkable
class Diarizer(Protocol):
    """Turns audio into speaker turns; `name` is recorded with every result."""

    name: str

    def diarize(self, clip: AudioClip) -> tuple[SpeakerTurn, ...]:
        """Speaker turns of `clip`, in seconds from its start; ``()`` when no one speaks."""
        ...

    def load(self) -> None:
        """Load models up front (timings then count only diarization)."""
        ...

    def cache_identity(self) -> Mapping[str, Any]:
        """Everything about this diarizer that changes its output (engine version, settings)."""
        ...


def _overlap(word: Word, turn: SpeakerTurn) -> float:
    return min(word.end, turn.end) - max(word.start, turn.start)


def _distance(word: Word, turn: SpeakerTurn) -> float:
    """Gap in seconds between a word and a turn (0 when they touch or overlap)."""
    return max(turn.start - word.end, word.start - turn.end, 0.0)


def assign_speakers(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> tuple[Word, ...]:
    """Give every word the speaker of the turn it overlaps most in time.

    A word overlapping no turn (the diarizer's VAD missed it, or it has zero duration) gets the
    speaker of the nearest turn, so no word is left unattributed; ties go to the earlier turn.
    With no turns at all the words are returned unchanged.

    ::

        turns   AAAAAAAAAA      BBBBBBBBBB
        words     [w1]     [w2]   [w3]       w1 -> A (inside A)
                                             w2 -> A (0.5 s from A, 1 s from B: nearest)
                                             w3 -> B (overlaps only B)

    >>> turns = [SpeakerTurn("A", 0, 2), SpeakerTurn("B", 2, 4)]
    >>> [w.speaker for w in assign_speakers([Word("hi", 1.5, 2.2), Word("yo", 4.5, 5)], turns)]
    ['A', 'B']
    """
    if not turns:
        return tuple(words)
    ordered = sorted(turns, key=lambda t: (t.start, t.end))
    starts = [t.start for t in ordered]
    longest = max(t.duration for t in ordered)
    # latest[i]: index of the turn ending last among ordered[: i + 1] (first one on ties)
    latest: list[int] = []
    for i, t in enumerate(ordered):
        latest.append(i if not latest or t.end > ordered[latest[-1]].end else latest[-1])
    out = []
    for w in words:
        out.append(
            replace(w, speaker=ordered[_best_turn(w, ordered, starts, latest, longest)].speaker)
        )
    return tuple(out)


def _best_turn(
    w: Word, ordered: list[SpeakerTurn], starts: list[float], latest: list[int], longest: float
) -> int:
    """Index of the turn overlapping `w` most, else of the nearest one (earlier on ties)."""
    hi = bisect_left(starts, w.end)  # ordered[:hi] start before the word ends
    best, best_overlap = -1, 0.0
    i = hi - 1
    while i >= 0 and starts[i] >= w.start - longest:  # only these can reach the word
        overlap = _overlap(w, ordered[i])
        if overlap > best_overlap or (overlap == best_overlap and overlap > 0):
            best, best_overlap = i, overlap  # scanning backwards: ties go to the earlier turn
        i -= 1
    if best >= 0:
        return best
    candidates = []
    if hi > 0:
        candidates.append(latest[hi - 1])
    if hi < len(ordered):
        candidates.append(hi)
    return min(candidates, key=lambda j: (_distance(w, ordered[j]), j))


def render_transcript(words: Sequence[Word]) -> str:
    """A readable speaker-labelled transcript: one line per change of speaker.

    Each line starts with the start time of its first word and the speaker (``?`` when a word
    has none).

    >>> print(render_transcript([Word("hello", 12.3, 12.6, speaker="SPEAKER_1"),
    ...                          Word("there", 12.6, 13.0, speaker="SPEAKER_1"),
    ...                          Word("hi", 13.4, 13.6, speaker="SPEAKER_2")]))
    [12.3s] SPEAKER_1: hello there
    [13.4s] SPEAKER_2: hi
    """
    lines: list[str] = []
    current: object = object()
    for w in sorted(words, key=lambda w: (w.start, w.end)):
        speaker = w.speaker if w.speaker is not None else "?"
        if speaker != current:
            lines.append(f"[{w.start:.1f}s] {speaker}: {w.text}")
            current = speaker
        else:
            lines[-1] += f" {w.text}"
    return "\n".join(lines)
