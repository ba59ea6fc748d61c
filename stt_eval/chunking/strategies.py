"""Window strategies beyond cut-and-merge, as pure decisions on transcripts (the pipeline runs
the engine): which windows collapsed and deserve a second, stronger decode (``redecode``), and
where the next window starts when decoding continues where the engine stopped (``continue``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from stt_eval.types import Chunk, Transcript, Word

COLLAPSE_RATIO = 0.5
"""A window collapsed when its words per second are under this share of its neighbours' mean."""
MIN_NEIGHBOUR_WPS = 0.5
"""...and its neighbours hear at least this many words per second (a quiet stretch is not a
collapse)."""
REDECODE_BEAM = 5
"""The stronger setting a collapsed window is decoded again with (Whisper's own default)."""

CONFIDENT = 0.5
"""A word at least this confident (or with no confidence given) may end a ``continue`` window."""
EDGE_S = 0.5
"""Words ending this close to a window's end may be cut off by it: never where one stops."""
MIN_ADVANCE_S = 1.0
"""The least a ``continue`` window moves the next one on (so decoding always ends)."""


def words_per_second(window: Chunk, transcript: Transcript) -> float:
    """How fast a window's transcript speaks (timed words, else text words)."""
    n = len(transcript.words) or len(transcript.text.split())
    return n / window.duration_s


def collapsed(parts: Sequence[tuple[Chunk, Transcript]]) -> list[int]:
    """Indices of the windows that heard far fewer words per second than their neighbours.

    >>> from stt_eval.types import Chunk, Transcript
    >>> def part(i, n): return Chunk("s", i, 10.0 * i, 10.0), Transcript(" ".join(["w"] * n))
    >>> collapsed([part(0, 25), part(1, 4), part(2, 22), part(3, 0)])
    [1, 3]
    """
    rates = [words_per_second(c, t) for c, t in parts]
    out = []
    for i, rate in enumerate(rates):
        near = [rates[j] for j in (i - 1, i + 1) if 0 <= j < len(rates)]
        mean = sum(near) / len(near) if near else 0.0
        if mean >= MIN_NEIGHBOUR_WPS and rate < COLLAPSE_RATIO * mean:
            out.append(i)
    return out


def stronger(provider: Any) -> Any | None:
    """The provider with beam search at ``REDECODE_BEAM``; None when it has no ``beam_size``
    option (remote engines, pocketsphinx) or already searches as wide."""
    beam = getattr(provider, "beam_size", None)
    if not dataclasses.is_dataclass(provider) or not isinstance(beam, int) or beam >= REDECODE_BEAM:
        return None
    return dataclasses.replace(provider, beam_size=REDECODE_BEAM)


def continue_point(
    words: Sequence[Word], window: Chunk, overlap_s: float, at_end: bool = False
) -> float:
    """Where the window after ``window`` starts: the end of its last confident word that is not
    cut off by its end, as Whisper's sequential decoding seeks to its last complete segment.
    Where the window heard nothing confident, the fixed grid's start (its end minus the
    overlap); never less than ``MIN_ADVANCE_S`` after its own start. A window that reaches
    the end of the recording (``at_end``) cuts off nothing, and with nothing confident in it,
    is done (its end). ``words`` in global time.

    >>> w = Chunk("s", 0, 0.0, 30.0)
    >>> a, b, c = Word("a", 1, 2, 0.9), Word("b", 20, 21, 0.9), Word("c", 29.7, 30, 0.9)
    >>> continue_point([a, b, c], w, 2), continue_point([a, b, c], w, 2, at_end=True)
    (21.0, 30.0)
    >>> continue_point([a, Word("b", 20, 21, 0.1)], w, 2), continue_point([], w, 2)
    (2.0, 28.0)
    """
    last = window.end_s if at_end else window.end_s - EDGE_S
    sure = [
        w.end
        for w in words
        if w.end <= last and (w.confidence is None or w.confidence >= CONFIDENT)
    ]
    stop = sure[-1] if sure else window.end_s - (0.0 if at_end else overlap_s)
    return float(max(stop, window.offset_s + min(MIN_ADVANCE_S, window.duration_s / 2)))
