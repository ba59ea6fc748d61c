"""Interval logic on speaker turns and (start, end) regions: the one place they are merged.

Readers (RTTM, UEM), metrics (DER/JER) and the pipeline (a provider's turns) all need to merge
overlapping pieces of one speaker or one scoring region; they all call :func:`merge_regions` or
:func:`merge_turns` so they cannot disagree.

Touching pieces join. ``[0, 3]`` and ``[3, 5]`` of one speaker become ``[0, 5]``: that is how
pyannote's ``Timeline.support()`` and md-eval count speech coverage, and it is what a chunked
transcript needs (a turn cut at a chunk seam comes back whole)::

    time (s)   0    1    2    3    4    5    6    7
    A pieces   [=========]                          0-3
               .         [=====]                    3-5 touches 0-3: joined
               .              .    [====]           5.5-7 (a gap): kept apart
    A merged   [===============]   [====]

Pieces that only touch are joined silently; pieces that overlap are a double annotation (their
overlap would count twice), which :func:`same_speaker_overlaps` finds so readers can warn.

``keep_touching=True`` merges overlaps only and keeps an annotator's boundary between touching
turns. The RTTM reader uses it: md-eval (and pyannote) put a no-score collar around every
reference turn boundary as written, so a boundary between two touching turns of one speaker
still matters to DER with a collar.
"""

from __future__ import annotations

from collections.abc import Iterable

from stt_eval.types import SpeakerTurn, Word

Region = tuple[float, float]


def _merge(spans: Iterable[Region], keep_touching: bool) -> list[tuple[float, float, int]]:
    """Sorted, merged (start, end, number of pieces) of non-empty (start, end) spans."""
    out: list[tuple[float, float, int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if out and (start < out[-1][1] or (start == out[-1][1] and not keep_touching)):
            first, last, pieces = out[-1]
            out[-1] = (first, max(last, end), pieces + 1)
        else:
            out.append((start, end, 1))
    return out


def merge_regions(spans: Iterable[Region], *, keep_touching: bool = False) -> tuple[Region, ...]:
    """Sort (start, end) regions and merge those that overlap or touch; drop empty ones.

    >>> merge_regions([(5, 6), (0, 2), (1, 3), (3, 4), (7, 7)])
    ((0, 4), (5, 6))
    >>> merge_regions([(0, 2), (2, 3)], keep_touching=True)
    ((0, 2), (2, 3))
    """
    return tuple((start, end) for start, end, _ in _merge(spans, keep_touching))


def _by_speaker(turns: Iterable[SpeakerTurn]) -> dict[str, list[Region]]:
    spans: dict[str, list[Region]] = {}
    for t in turns:
        spans.setdefault(t.speaker, []).append((t.start, t.end))
    return spans


def _ordered(turns: Iterable[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    return tuple(sorted(turns, key=lambda t: (t.start, t.end, t.speaker)))


def merge_turns(
    turns: Iterable[SpeakerTurn], *, keep_touching: bool = False
) -> tuple[SpeakerTurn, ...]:
    """Merge overlapping or touching turns of the same speaker; sorted by (start, end, speaker).

    Turns of different speakers never merge (their overlap is real overlapping speech), and
    zero-length turns are dropped (they hold no speech).

    >>> merge_turns([SpeakerTurn("a", 0, 2), SpeakerTurn("a", 1, 3), SpeakerTurn("b", 1, 2)])
    (SpeakerTurn(speaker='a', start=0, end=3), SpeakerTurn(speaker='b', start=1, end=2))
    >>> merge_turns([SpeakerTurn("a", 0, 2), SpeakerTurn("a", 2, 3)])
    (SpeakerTurn(speaker='a', start=0, end=3),)
    """
    turns = tuple(turns)
    alone = {(t.speaker, t.start, t.end): t for t in turns}  # a turn merged with none is kept
    return _ordered(
        alone[speaker, start, end] if pieces == 1 else SpeakerTurn(speaker, start, end)
        for speaker, spans in _by_speaker(turns).items()
        for start, end, pieces in _merge(spans, keep_touching)
    )


MIN_WORD_S = 1e-3
"""A zero-length word still marks its speaker as talking for this long."""


def turns_from_words(words: Iterable[Word], gap_s: float | None = None) -> tuple[SpeakerTurn, ...]:
    """Speaker turns from speaker-labelled words (unlabelled words are skipped), merged.

    ``gap_s=None``: a turn runs while consecutive words have one speaker (a provider's own
    diarization, words in its order). A number: each speaker's words join across other
    speakers' words while the pause between them is under ``gap_s`` (separately recorded
    channels, where speakers overlap).

    >>> ws = [Word("a", 0, 1, speaker="A"), Word("b", 1, 2, speaker="B"),
    ...       Word("c", 2.5, 3, speaker="A"), Word("d", 6, 7, speaker="A")]
    >>> [(t.speaker, t.start, t.end) for t in turns_from_words(ws)]
    [('A', 0, 1), ('B', 1, 2), ('A', 2.5, 7)]
    >>> [(t.speaker, t.start, t.end) for t in turns_from_words(ws, gap_s=2.0)]
    [('A', 0, 3), ('B', 1, 2), ('A', 6, 7)]
    """
    turns: list[SpeakerTurn] = []
    last: dict[str, int] = {}  # speaker -> index of their latest turn
    for w in words:
        if w.speaker is None:
            continue
        end = max(w.end, w.start + MIN_WORD_S)
        at = last.get(w.speaker)
        joins = at is not None and (
            at == len(turns) - 1 if gap_s is None else w.start - turns[at].end < gap_s
        )
        if joins and at is not None:
            turns[at] = SpeakerTurn(w.speaker, turns[at].start, max(turns[at].end, end))
        else:
            last[w.speaker] = len(turns)
            turns.append(SpeakerTurn(w.speaker, w.start, end))
    return merge_turns(turns)


def same_speaker_overlaps(turns: Iterable[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    """The stretches where turns of one speaker overlap (touching is not overlap), each as the
    merged turn its pieces form; empty when no speaker overlaps itself.

    >>> same_speaker_overlaps([SpeakerTurn("a", 0, 2), SpeakerTurn("a", 1, 3),
    ...                        SpeakerTurn("a", 3, 4), SpeakerTurn("b", 1, 2)])
    (SpeakerTurn(speaker='a', start=0, end=3),)
    """
    return _ordered(
        SpeakerTurn(speaker, start, end)
        for speaker, spans in _by_speaker(turns).items()
        for start, end, pieces in _merge(spans, keep_touching=True)
        if pieces > 1
    )
