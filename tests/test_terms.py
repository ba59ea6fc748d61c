"""Domain terms: recall, precision and TER on hand-derived fixtures, pooled by adding."""

from __future__ import annotations

import math

import pytest

from stt_eval.metrics.terms import TermCounts, normalize_terms, occurrences, score_terms
from stt_eval.metrics.wer import score_text
from stt_eval.pipeline.score import Scoring, score_transcript, scored_row
from stt_eval.report.analysis.errors import terms_table
from stt_eval.run.directory import rows_frame
from stt_eval.types import Sample, Transcript

from .conftest import flat_row


def _score(terms, ref, hyp, normalizer="whisper"):
    return score_terms(terms, score_text(ref, hyp, normalizer), normalizer)


def test_recall_precision_and_ter_by_hand():
    # reference: "new jersey" twice, "chicago" once; the hypothesis drops the second "new"
    s = _score(
        ["New Jersey", "Chicago", "Texas"],
        "We flew from New Jersey to Chicago, then back to New Jersey.",
        "we flew from new jersey to chicago then back to jersey",
    )
    assert s.per_term["new jersey"] == TermCounts(ref=2, hyp=1, hits=1, bag_errors=1)
    assert s.per_term["chicago"] == TermCounts(ref=1, hyp=1, hits=1, bag_errors=0)
    assert s.per_term["texas"] == TermCounts()
    total = s.total
    assert (total.ref, total.hyp, total.hits, total.bag_errors) == (3, 2, 2, 1)
    assert total.recall == pytest.approx(2 / 3)
    assert total.precision == 1.0
    assert total.ter == pytest.approx(1 / 3)
    assert s.missed == ("new jersey",)


def test_a_term_written_elsewhere_is_not_recognised_but_costs_no_ter():
    # "smith" is substituted where it was said and inserted later: recall 0, precision 0 (the
    # hypothesis occurrence is a false alarm), but as a bag per file R = H = 1, so TER = 0
    s = _score(["Smith"], "call doctor smith now", "call doctor jones now smith")
    assert s.total == TermCounts(ref=1, hyp=1, hits=0, bag_errors=0)
    assert (s.total.recall, s.total.precision, s.total.ter) == (0.0, 0.0, 0.0)
    assert s.total.false_alarms == 1 and s.total.missed == 1


def test_a_multi_word_term_split_by_an_insertion_is_missed():
    s = _score(["New York"], "in new york today", "in new big york today", "basic")
    assert s.total == TermCounts(ref=1, hyp=0, hits=0, bag_errors=1)


def test_terms_are_normalized_like_the_text():
    assert normalize_terms(["Mr. Smith", "Twenty five", "twenty-five!", "[noise]"]) == (
        ("mister", "smith"),
        ("25",),
    )
    s = _score(
        ["Mr. Smith", "twenty five"],
        "Mr. Smith met twenty five people",
        "mister smith met 25 people",
    )
    assert s.total == TermCounts(ref=2, hyp=2, hits=2, bag_errors=0)


def test_occurrences_do_not_overlap():
    assert occurrences("la la la la".split(), ["la", "la"]) == [0, 2]
    assert occurrences("a b".split(), []) == []


def test_counts_pool_by_adding():
    a = TermCounts(ref=4, hyp=2, hits=2, bag_errors=2)  # recall 50 %
    b = TermCounts(ref=1, hyp=1, hits=1, bag_errors=0)  # recall 100 %
    total = sum([a, b])
    assert total == TermCounts(5, 3, 3, 2)
    assert total.recall == pytest.approx(3 / 5)  # not the mean of 50 % and 100 %
    assert math.isnan(TermCounts().recall) and math.isnan(TermCounts().ter)
    with pytest.raises(ValueError, match="hits=2 cannot exceed"):
        TermCounts(ref=1, hyp=3, hits=2)


def test_rows_carry_term_counts_and_tables_pool_them():
    scoring = Scoring()
    rows = []
    for sid, ref, hyp in (
        ("a", "Diane lives in New Jersey", "diane lives in new jersey"),  # 2 of 2
        ("b", "Sheila from Texas and Diane", "sheila from taxes and diana"),  # 0 of 2
    ):
        sample = Sample(sid, "x.wav", ref, terms=("Diane", "New Jersey", "Texas"))
        rows.append(
            scored_row(
                flat_row("r", sid, "p"), score_transcript(sample, Transcript(hyp), (), scoring)
            )
        )
    assert (
        rows[0].columns()["term_ref"],
        rows[0].columns()["term_hits"],
        rows[0].columns()["term_errors"],
    ) == (2, 2, 0)
    assert (
        rows[1].columns()["term_ref"],
        rows[1].columns()["term_hyp"],
        rows[1].columns()["term_hits"],
    ) == (2, 0, 0)
    assert rows[1].terms_missed == ("diane", "texas")
    (line,) = terms_table(rows_frame(rows), by=["provider"]).to_dict("records")
    assert (line["terms"], line["recognised"]) == (4, 2)
    assert line["recall"] == pytest.approx(0.5) and line["precision"] == 1.0
    assert line["ter"] == pytest.approx(2 / 4)  # diane and texas missing in file b
    assert line["false_alarms"] == 0


def test_no_terms_no_table():
    row = flat_row("r", "a", "p", hits=3, ref_words=3)
    assert terms_table(rows_frame([row])).empty
