"""The one interval merger: touching pieces join, overlaps are found, speakers never mix."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stt_eval.metrics.intervals import merge_regions, merge_turns, same_speaker_overlaps
from stt_eval.types import SpeakerTurn as T


def test_touching_turns_of_one_speaker_become_one():
    # time (s)  0    1    2    3    4    5    6
    # A         [=========][=========]              0-2 and 2-4 touch: one turn 0-4
    # B                    [====]                   2-3: another speaker, never merged with A
    # A                                   [====]    5-6: after a gap, kept apart
    turns = [T("A", 0, 2), T("A", 2, 4), T("B", 2, 3), T("A", 5, 6)]
    assert merge_turns(turns) == (T("A", 0, 4), T("B", 2, 3), T("A", 5, 6))


def test_keep_touching_merges_overlaps_only():
    turns = [T("A", 0, 2), T("A", 2, 4), T("A", 3, 5)]
    assert merge_turns(turns, keep_touching=True) == (T("A", 0, 2), T("A", 2, 5))


def test_zero_length_turns_hold_no_speech():
    assert merge_turns([T("A", 1, 1), T("A", 2, 3)]) == (T("A", 2, 3),)


def test_regions_merge_like_turns():
    assert merge_regions([(5.0, 6.0), (0.0, 2.0), (2.0, 3.0), (1.0, 1.5)]) == (
        (0.0, 3.0),
        (5.0, 6.0),
    )
    assert merge_regions([]) == ()


def test_same_speaker_overlaps_ignores_touching_and_other_speakers():
    turns = [T("A", 0, 2), T("A", 1, 3), T("A", 3, 4), T("B", 0, 4), T("B", 1, 2)]
    assert same_speaker_overlaps(turns) == (T("A", 0, 3), T("B", 0, 4))
    assert same_speaker_overlaps([T("A", 0, 2), T("A", 2, 3), T("B", 1, 2)]) == ()


turns = st.lists(
    st.tuples(st.sampled_from("AB"), st.integers(0, 50), st.integers(0, 10)).map(
        lambda t: T(t[0], t[1], t[1] + t[2])
    ),
    max_size=15,
)


def _covered(turn_list, speaker):
    return {x for t in turn_list if t.speaker == speaker for x in range(t.start, t.end)}


@settings(max_examples=60, deadline=None)
@given(turns)
def test_merging_keeps_coverage_and_leaves_gaps_between_pieces(given_turns):
    merged = merge_turns(given_turns)
    for speaker in "AB":
        assert _covered(merged, speaker) == _covered(given_turns, speaker)
        mine = [t for t in merged if t.speaker == speaker]
        assert all(a.end < b.start for a, b in zip(mine, mine[1:]))  # neither overlap nor touch
    assert merge_turns(merged) == merged
