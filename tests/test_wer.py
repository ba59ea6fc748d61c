"""WER counts: hand-derived cases, pooling by addition, and alignment invariants (hypothesis)."""

from __future__ import annotations

import math
import random
from dataclasses import astuple

import jiwer
from hypothesis import given
from hypothesis import strategies as st

from stt_eval.metrics.wer import WordCounts, align_words, char_counts, score_corpus, score_text


def test_hand_counted_alignment():
    # ref: the cat sat on the mat ; hyp: the cat sat at the mat today
    # one substitution (on→at), one insertion (today): 2 errors / 6 words
    s = align_words("the cat sat on the mat".split(), "the cat sat at the mat today".split())
    assert (s.counts.hits, s.counts.subs, s.counts.dels, s.counts.ins) == (5, 1, 0, 1)
    assert math.isclose(s.counts.wer, 2 / 6)
    assert [op.type for op in s.ops] == ["equal", "substitute", "equal", "insert"]


def test_empty_sides():
    assert align_words(["a", "b"], []).counts == WordCounts(dels=2)
    assert align_words([], ["a"]).counts == WordCounts(ins=1)
    assert math.isnan(WordCounts().wer)


def test_pooling_adds_counts_and_does_not_average_rates():
    a = align_words(["a"] * 2, ["b"] * 2).counts  # 100 % on 2 words
    b = align_words(["a"] * 98, ["a"] * 98).counts  # 0 % on 98 words
    total = sum([a, b])
    assert total.ref_words == 100 and total.errors == 2
    assert math.isclose(total.wer, 0.02)  # the mean of per-file rates would say 50 %


def test_score_text_normalizes_both_sides():
    s = score_text("Mr. Smith, thirty!", "mister smith 30")
    assert s.counts.errors == 0 and s.counts.ref_words == 3


def test_corpus_reports_ids_missing_on_either_side():
    out = score_corpus({"a": "x y", "b": "z"}, {"a": "x", "c": "q"})
    assert out.missing_hypotheses == ("b",) and out.missing_references == ("c",)
    assert out.total == WordCounts(hits=1, dels=2)  # "b" has no hypothesis: all deletions


def test_rates():
    c = WordCounts(hits=3, subs=1, dels=1, ins=1)
    assert math.isclose(c.wer, 3 / 5)
    assert math.isclose(c.mer, 3 / 6)
    assert math.isclose(c.wil, 1 - 9 / (5 * 5))


def test_cer_counts_characters_like_jiwer():
    c = char_counts(["kitten"], ["sitting"])
    assert (c.edits, c.ref_chars) == (3, 6)


tokens = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=30)


@given(tokens, tokens)
def test_alignment_invariants(ref, hyp):
    c = align_words(ref, hyp).counts
    assert c.ref_words == len(ref) and c.hyp_words == len(hyp)
    assert c.errors >= abs(len(ref) - len(hyp))
    if ref and hyp:  # differential: jiwer's own WER on the raw strings
        assert math.isclose(c.wer, jiwer.wer(" ".join(ref), " ".join(hyp)))


@given(tokens, tokens, tokens, tokens)
def test_sum_equals_elementwise_addition(r1, h1, r2, h2):
    a, b = align_words(r1, h1).counts, align_words(r2, h2).counts
    s = a + b
    assert s.ref_words == a.ref_words + b.ref_words and s.errors == a.errors + b.errors


def test_corpus_counts_and_edit_runs_are_jiwers_where_alignments_tie():
    # four words, so most pairs have several optimal alignments: the split into S, D and I and
    # the runs must still be the ones jiwer.process_words picks
    rng = random.Random(5)
    refs = {f"u{i}": " ".join(rng.choices("abcd", k=rng.randint(1, 12))) for i in range(1500)}
    hyps = {u: " ".join(rng.choices("abcd", k=rng.randint(0, 12))) for u in refs}
    counts = score_corpus(refs, hyps, "none").per_utterance
    runs = score_corpus(refs, hyps, "none", alignments=True).alignments
    for uid, ref in refs.items():
        if not hyps[uid]:
            assert counts[uid] == WordCounts(dels=len(ref.split()))
            continue
        j = jiwer.process_words(ref, hyps[uid])
        assert counts[uid] == WordCounts(j.hits, j.substitutions, j.deletions, j.insertions)
        assert [astuple(op) for op in runs[uid].ops] == [
            (c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx)
            for c in j.alignments[0]
        ]
