"""Records check their own invariants and say what to fix."""

from __future__ import annotations

import re

import pytest

from stt_eval.types import Chunk, InvalidRecord, Sample, SpeakerTurn, Transcript, Word

from .conftest import flat_row


@pytest.mark.parametrize(
    "make,needle",
    [
        (lambda: Word("hi", 2.0, 1.0), "end=1.0 is before start=2.0"),
        (lambda: Word("hi", 0.0, 1.0, confidence=1.5), "confidence=1.5 is outside [0, 1]"),
        (lambda: SpeakerTurn("", 0, 1), "speaker label is empty"),
        (lambda: SpeakerTurn("A", -1, 1), "start=-1 must be a non-negative"),
        (lambda: Sample("x", "a.wav", "  "), "reference text is empty"),
        (lambda: Chunk("x", 0, 0.0, 0.0), "duration_s=0.0 must be > 0"),
        (lambda: flat_row("r", "s", "p", status="failed"), "needs an error message"),
        (
            lambda: flat_row("r", "s", "p", hits=1, ref_words=2),
            "ref_words=2 disagrees with the other words counts",
        ),
    ],
)
def test_invalid_records_name_the_value(make, needle):
    with pytest.raises(InvalidRecord, match=re.escape(needle)):
        make()


def test_transcript_shift_moves_words_and_turns():
    t = Transcript(
        "a b",
        words=(Word("a", 0.0, 0.5), Word("b", 0.5, 1.0)),
        turns=(SpeakerTurn("S1", 0.0, 1.0),),
    )
    s = t.shifted(30.0)
    assert [(w.start, w.end) for w in s.words] == [(30.0, 30.5), (30.5, 31.0)]
    assert (s.turns[0].start, s.turns[0].end) == (30.0, 31.0)
    assert s.text == t.text
