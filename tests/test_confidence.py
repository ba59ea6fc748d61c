"""Confidence as a review signal: bins, review share, errors caught and calibration on a
hand-derived fixture, pooling by adding, and (slow) faster-whisper's word probabilities."""

from __future__ import annotations

import math

import pytest

from stt_eval.metrics.confidence import (
    N_BINS,
    ConfidenceBins,
    bin_of,
    confidence_bins,
    word_errors,
)
from stt_eval.normalization.rules import words as normalized_words
from stt_eval.pipeline.score import Scoring, score_transcript, scored_row
from stt_eval.report.analysis.errors import reliability, review_curve, review_summary
from stt_eval.run.directory import rows_frame
from stt_eval.types import Sample, Transcript, Word

from .conftest import SAMPLE, flat_row

REF = "the cat sat on the mat".split()
# "sad" substitutes "sat" and "yes" is inserted: the two errors, at confidences 0.45 and 0.15
HYP = [
    ("The", 0.95),
    ("cat", 0.92),
    ("sad", 0.45),
    ("on", 0.85),
    ("the", 0.75),
    ("mat", 0.65),
    ("yes", 0.15),
]


def _words(pairs):
    return [Word(t, i * 0.5, i * 0.5 + 0.4, c) for i, (t, c) in enumerate(pairs)]


def test_bins_by_hand():
    bins = confidence_bins(REF, _words(HYP))
    # 0.15 → bin 1, 0.45 → 4, 0.65 → 6, 0.75 → 7, 0.85 → 8, 0.92 and 0.95 → 9
    assert bins.words == (0, 1, 0, 0, 1, 0, 1, 1, 1, 2)
    assert bins.errors == (0, 1, 0, 0, 1, 0, 0, 0, 0, 0)
    assert bins.conf_sum[9] == pytest.approx(1.87)


def test_review_at_the_default_threshold_by_hand():
    bins = confidence_bins(REF, _words(HYP))
    point = bins.review()  # 0.7: words 0.15, 0.45 and 0.65 go to review
    assert point.reviewed == pytest.approx(3 / 7)
    assert point.caught == 1.0  # both errors are among them
    assert point.error_rate_below == pytest.approx(2 / 3)
    assert point.error_rate_above == 0.0
    assert bins.split(0.7) == (3, 2, 4, 0)


def test_expected_calibration_error_by_hand():
    bins = confidence_bins(REF, _words(HYP))
    # |accuracy − mean confidence| per bin: 0.15 (bin 1, wrong), 0.45 (bin 4, wrong),
    # 0.35, 0.25, 0.15 (bins 6-8, right), 2 words × (1 − 0.935) in bin 9; over 7 words
    assert bins.ece == pytest.approx((0.15 + 0.45 + 0.35 + 0.25 + 0.15 + 2 * 0.065) / 7)
    low, high, n, conf, acc = bins.reliability()[9]
    assert (low, high, n, acc) == (0.9, 1.0, 2, 1.0) and conf == pytest.approx(0.935)


def test_review_curve_runs_from_nothing_to_everything_below_one():
    curve = confidence_bins(REF, _words(HYP)).review_curve()
    assert [p.threshold for p in curve] == [k / 10 for k in range(11)]
    assert (curve[0].reviewed, curve[0].caught) == (0.0, 0.0)
    assert (curve[-1].reviewed, curve[-1].caught) == (1.0, 1.0)
    assert curve[2].caught == 0.5  # below 0.2: only "yes"


def test_bin_edges():
    assert [bin_of(c) for c in (0.0, 0.1, 0.6999, 0.7, 0.99, 1.0)] == [0, 1, 6, 7, 9, 9]
    with pytest.raises(ValueError, match="outside"):
        bin_of(1.2)
    with pytest.raises(ValueError, match="not a bin edge"):
        ConfidenceBins().review(0.75)


def test_a_word_is_an_error_if_any_of_its_tokens_is_and_fillers_are_not_counted():
    # basic preset: "New-York" → "new york", one of its tokens substitutes "jersey"
    ref = normalized_words("we like new jersey", "basic")
    words = _words([("we", 0.9), ("um", 0.2), ("like", 0.8), ("New-York", 0.6)])
    marked = [(w.text, bad) for w, bad in word_errors(ref, words, "basic")]
    assert marked == [("we", False), ("um", True), ("like", False), ("New-York", True)]
    marked = [(w.text, bad) for w, bad in word_errors(ref, words, "whisper")]
    assert ("um", True) not in marked and len(marked) == 3  # whisper drops the filler


def test_no_confidence_no_bins_and_bins_pool_by_adding():
    assert confidence_bins(REF, [Word("the", 0.0, 0.1)]) is None
    a = ConfidenceBins(words=(1,) * N_BINS, errors=(1,) + (0,) * 9, conf_sum=(0.05,) * N_BINS)
    b = ConfidenceBins(words=(0,) * 9 + (3,), errors=(0,) * 9 + (1,), conf_sum=(0.0,) * 9 + (2.9,))
    total = sum([a, b])
    assert total.total_words == 13 and total.total_errors == 2
    assert total.words[9] == 4 and total.errors[9] == 1
    with pytest.raises(ValueError, match="3 errors among 2 words"):
        ConfidenceBins(words=(2,) * N_BINS, errors=(3,) * N_BINS)
    assert math.isnan(ConfidenceBins().ece)


def test_rows_carry_bins_and_the_report_pools_them():
    sample = Sample("s", "x.wav", " ".join(REF))
    transcript = Transcript(" ".join(t for t, _ in HYP), words=tuple(_words(HYP)))
    row = scored_row(flat_row("r", "s", "p"), score_transcript(sample, transcript, (), Scoring()))
    assert row.columns()["conf_words_by_bin"] == (0, 1, 0, 0, 1, 0, 1, 1, 1, 2)
    frame = rows_frame([row, flat_row(**{**row.columns(), "sample_id": "t"})])
    (line,) = review_summary(frame).to_dict("records")
    assert (line["words"], line["errors"]) == (14, 4)
    assert line["reviewed"] == pytest.approx(6 / 14) and line["caught"] == 1.0
    assert len(review_curve(frame)) == 11 and len(reliability(frame)) == N_BINS
    no_conf = rows_frame([flat_row("r", "s", "q", hits=1, ref_words=1)])
    assert review_summary(no_conf).empty


@pytest.mark.slow
def test_faster_whisper_word_probabilities_make_a_review_curve():
    from stt_eval.audio.load import load_audio
    from stt_eval.datasets.manifest import load_manifest
    from stt_eval.providers.registry import get_provider

    sample = {s.id: s for s in load_manifest(SAMPLE / "manifest.jsonl").samples}["pyannote_sample"]
    provider = get_provider("faster-whisper")
    transcript = provider.transcribe(load_audio(sample.audio_path), {"language": "en"})
    assert all(w.confidence is not None for w in transcript.words)
    row = scored_row(
        flat_row("r", sample.id, "fw"), score_transcript(sample, transcript, (), Scoring())
    )
    bins = ConfidenceBins(
        row.columns()["conf_words_by_bin"],
        row.columns()["conf_errors_by_bin"],
        row.columns()["conf_sum_by_bin"],
    )
    scored = sum(1 for w in transcript.words if normalized_words(w.text))
    assert bins.total_words == scored > 50
    assert (
        0 < bins.total_errors <= row.columns()["subs"] + row.columns()["ins"] + 5
    )  # the per-word alignment may differ
    point = bins.review()
    assert 0.0 < point.reviewed < 1.0 and 0.0 <= point.caught <= 1.0
    assert 0.0 <= bins.ece <= 1.0
    # tiny.en's probabilities carry signal: words below 0.7 are wrong more often than above
    assert point.error_rate_below > point.error_rate_above


def test_the_threshold_for_a_share_of_errors_is_the_lowest_edge_that_catches_it():
    from stt_eval.metrics.confidence import ConfidenceBins

    # 10 errors: 2 in bin 0.1-0.2, 6 in 0.5-0.6, 2 in 0.9-1.0; 100 words, 10 in each bin
    bins = ConfidenceBins((10,) * 10, (0, 2, 0, 0, 0, 6, 0, 0, 0, 2), (0.0,) * 10)
    point = bins.threshold_for(0.8)
    assert point.threshold == pytest.approx(0.6) and point.caught == pytest.approx(0.8)
    assert point.reviewed == pytest.approx(0.6)  # 60 of 100 words below 0.6
    assert bins.threshold_for(0.2).threshold == pytest.approx(0.2)
    assert bins.threshold_for(1.0).threshold == pytest.approx(1.0)
