"""``channel_mode = "split"``: per-channel transcripts merged into one speaker-attributed
transcript, whose words give the speaker turns (``turns_from_words(words, TURN_GAP_S)``:
speakers come from channels, not a diarizer).

::

    time (s)     0    1    2    3    4    5    6
    channel A    hello there         yes
    channel B              hi bob         bye
    merged       hello there hi bob yes  bye      (words in global time, each with its speaker)
    turns A      [=========]         [=]          (words closer than TURN_GAP_S joined)
    turns B                  [====]       [=]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from stt_eval.types import Transcript, Word

TURN_GAP_S = 1.0
"""Words of one channel closer than this (seconds) form one speaker turn; a longer pause ends
the turn, as an annotator would end it."""


def _labelled(speaker: str, t: Transcript) -> list[Word]:
    """A channel's words labelled with its speaker. Words a provider writes with their leading
    space (Whisper's " word") keep it, so a continuation ("-disposed") stays glued to its word
    when the text is built; other providers' words get one."""
    spaced = any(w.text[:1].isspace() for w in t.words)
    return [
        replace(w, text=w.text if spaced else f" {w.text.strip()}", speaker=speaker)
        for w in t.words
    ]


def merge_streams(parts: Sequence[tuple[str, Transcript]]) -> Transcript:
    """One transcript from per-channel ones: every word labelled with its channel's speaker and
    all words in global time order (the text is those words). A channel whose provider gave text
    but no word times cannot be placed in time: its text follows the others', in channel order.

    >>> a = Transcript("ill-disposed", (Word(" ill", 0, 0.4), Word("-disposed", 0.4, 0.9)))
    >>> b = Transcript("yes", (Word("yes", 0.6, 0.8),))
    >>> merge_streams([("A", a), ("B", b)]).text
    'ill-disposed yes'
    """
    words = sorted(
        (w for speaker, t in parts for w in _labelled(speaker, t)), key=lambda w: (w.start, w.end)
    )
    text = "".join(
        f" {w.text}"
        if i and w.speaker != words[i - 1].speaker and not w.text[:1].isspace()
        else w.text
        for i, w in enumerate(words)
    )
    untimed = [t.text.strip() for _, t in parts if not t.words and t.text.strip()]
    language = next((t.language for _, t in parts if t.language), None)
    raw = {"channels": {speaker: t.text for speaker, t in parts}, "untimed": bool(untimed)}
    warnings = tuple(f"channel {speaker}: {w}" for speaker, t in parts for w in t.warnings)
    text = " ".join([text.strip(), *untimed]).strip()
    return Transcript(text, tuple(words), (), language, raw, warnings)
