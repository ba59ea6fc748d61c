"""What a loopback streaming server "hears": a script of partials and finals, each due when the
stream's audio reaches a point (a word's end plus a delay), so its delays hold at any pace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stt_eval.types import Word


@dataclass(frozen=True)
class Cue:
    """One scripted message: ``partial`` or ``final``, due when the audio reaches ``due_s``,
    with the words it holds (times on the stream's audio, seconds)."""

    kind: str
    due_s: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Script:
    """The cues of one stream, in the order they are sent."""

    cues: tuple[Cue, ...]

    @property
    def text(self) -> str:
        """The stream's scripted transcript: its finals joined."""
        return " ".join(c.text for c in self.cues if c.kind == "final")


def script_from_words(
    words: Sequence[Word],
    *,
    partial_delay_s: float = 0.2,
    final_delay_s: float = 0.5,
    words_per_final: int = 4,
) -> Script:
    """A partial per word (``partial_delay_s`` after it ends, holding its segment so far) and a
    final per ``words_per_final`` words (``final_delay_s`` after the segment's last word)."""
    cues: list[tuple[float, int, Cue]] = []
    for first in range(0, len(words), words_per_final):
        segment = tuple(words[first : first + words_per_final])
        for i, word in enumerate(segment):
            due = word.end + partial_delay_s
            cues.append((due, 0, Cue("partial", due, segment[: i + 1])))
        due = segment[-1].end + final_delay_s
        cues.append((due, 1, Cue("final", due, segment)))
    return Script(tuple(cue for _, _, cue in sorted(cues, key=lambda c: (c[0], c[1]))))
