"""cpWER: a hand-computed two-speaker fixture, label invariance, and misattribution cost."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stt_eval.metrics.speaker_wer import CpWERCounts, cpwer
from stt_eval.types import SpeakerSegment as S
from stt_eval.types import Word

# time (s)  0        2        4      5
# ref A     the cat sat        yes          A's stream: the cat sat yes   (4 words)
# ref B              on the mat             B's stream: on the mat        (3 words)
REF = [S("A", 0, 2, "The cat sat"), S("B", 2, 4, "on the mat"), S("A", 4, 5, "yes")]


def _hyp(last_speaker: str = "2") -> list[Word]:
    spans = [("The", "1"), ("cat,", "1"), ("sat.", "1"), ("on", "2"), ("the", "2"), ("hat", "2")]
    words = [Word(t, 0.6 * i, 0.6 * i + 0.5, speaker=s) for i, (t, s) in enumerate(spans)]
    return [*words, Word("Yes!", 4.2, 4.6, speaker=last_speaker)]


def test_cpwer_matches_hand_computation():
    # "yes" is put on speaker 2. Best mapping 1->A, 2->B:
    #   A: the cat sat yes  vs  the cat sat          -> 1 deletion
    #   B: on the mat       vs  on the hat yes       -> 1 substitution + 1 insertion
    # The other mapping (1->B, 2->A) costs 3 + 3 = 6. cpWER = 3 / 7.
    counts = cpwer(REF, _hyp())
    assert (counts.errors, counts.ref_words) == (3, 7)
    assert (counts.substitutions, counts.deletions, counts.insertions) == (1, 1, 1)
    assert counts.cpwer == pytest.approx(3 / 7)
    assert set(counts.assignment) == {("A", "1"), ("B", "2")}


def test_swapping_hypothesis_labels_does_not_change_cpwer():
    swap = {"1": "2", "2": "1"}
    swapped = [replace(w, speaker=swap[w.speaker]) for w in _hyp()]
    assert cpwer(REF, swapped) == cpwer(REF, _hyp())


def test_wrong_speaker_raises_cpwer_above_plain_wer():
    # plain WER ignores speakers: "the cat sat on the mat yes" vs "... hat yes" = 1 error / 7
    right = cpwer(REF, _hyp(last_speaker="1"))
    wrong = cpwer(REF, _hyp(last_speaker="2"))
    assert right.errors == 1  # correct attribution: cpWER equals plain WER
    assert wrong.errors == 3
    assert wrong.cpwer > right.cpwer


def test_normalization_is_applied_to_both_sides():
    hyp = [Word("HELLO,", 0, 1, speaker="x"), Word("world!", 1, 2, speaker="x")]
    assert cpwer([S("A", 0, 2, "hello world")], hyp).errors == 0
    assert cpwer([S("A", 0, 2, "hello world")], hyp, normalizer="none").errors == 2


def test_empty_hypothesis_is_all_deletions():
    counts = cpwer(REF, [])
    assert counts == CpWERCounts(
        errors=7, ref_words=7, deletions=7, missed_speakers=2, scored_speakers=2
    )


def test_words_without_speaker_are_rejected():
    with pytest.raises(ValueError, match="no speaker.*assign_speakers"):
        cpwer(REF, [Word("the", 0, 1)])


def test_unknown_normalizer_is_rejected():
    with pytest.raises(ValueError, match="unknown normalizer"):
        cpwer(REF, _hyp(), normalizer="fancy")


def test_counts_pool():
    a, b = cpwer(REF, _hyp()), cpwer(REF, _hyp(last_speaker="1"))
    total = sum([a, b])
    assert (total.errors, total.ref_words) == (4, 14)
    assert total.cpwer == pytest.approx(4 / 14)
    with pytest.raises(ValueError, match="errors"):
        CpWERCounts(errors=1, ref_words=1)
