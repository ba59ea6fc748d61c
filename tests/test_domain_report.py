"""The summary's domain sections from hand-made rows: per-utterance mean WER differs from
pooled WER on a set built so, and the vocabulary table pairs each provider's on and off rows."""

from __future__ import annotations

import pytest

from stt_eval.report.analysis.domain import utterance_wer, vocabulary_table
from stt_eval.report.markdown import summary_markdown
from stt_eval.run.directory import rows_frame

from .conftest import flat_row


def words(hits, subs=0, dels=0, ins=0, **more):
    return {"hits": hits, "subs": subs, "dels": dels, "ins": ins, **more}


def test_per_utterance_mean_and_pooled_wer_differ_by_construction():
    # one long file with 1 error in 100 words, two short ones with 1 error in 2 words each:
    # pooled = 3 / 104 = 2.9 %, per-utterance mean = (1 % + 50 % + 50 %) / 3 = 33.7 %
    rows = [
        flat_row(sample_id="long", **words(99, subs=1)),
        flat_row(sample_id="short1", **words(1, subs=1)),
        flat_row(sample_id="short2", **words(1, dels=1)),
    ]
    (line,) = utterance_wer(rows_frame(rows)).to_dict("records")
    assert line["pooled wer"] == pytest.approx(3 / 104)
    assert line["per-utterance mean wer"] == pytest.approx((0.01 + 0.5 + 0.5) / 3)
    for name, interval in (("per-utterance mean wer", "mean CI"), ("pooled wer", "pooled CI")):
        low, high = line[interval]
        assert low <= line[name] <= high and low < high  # each has its own bootstrap
    text = summary_markdown(rows_frame(rows), "t", "whisper")
    assert "## Pooled and per-utterance mean WER" in text
    assert "33.7 %" in text and "2.9 %" in text


def test_vocabulary_rows_pair_with_the_same_provider_without_it():
    rows = []
    for i in range(4):  # term said twice per file; off recognises it once, on twice
        terms = {"term_ref": 2, "term_hyp": 1, "term_hits": 1, "term_errors": 1}
        rows.append(flat_row(sample_id=f"f{i}", provider="fw", **words(9, subs=1), **terms))
        terms_on = {"term_ref": 2, "term_hyp": 2, "term_hits": 2, "term_errors": 0}
        rows.append(
            flat_row(
                sample_id=f"f{i}",
                provider="fw+terms",
                vocabulary="terms",
                **words(8, subs=2),
                **terms_on,
            )
        )
    (line,) = vocabulary_table(rows_frame(rows)).to_dict("records")
    assert (line["provider"], line["vocabulary"]) == ("fw", "terms")
    assert line["term_recall off"] == pytest.approx(0.5)
    assert line["term_recall on"] == pytest.approx(1.0)
    assert line["wer on − off"] == pytest.approx(0.2 - 0.1)  # boosting cost WER elsewhere
    assert line["term_recall on − off"] == pytest.approx(0.5)
    assert line["wer files"] == 4
    text = summary_markdown(rows_frame(rows), "t", "whisper")
    assert "## Custom vocabulary: does it help here?" in text


def test_review_thresholds_table_and_curve_per_provider_and_condition():
    from stt_eval.report.analysis.errors import review_targets
    from stt_eval.report.figures.review import review_curves

    bins = {
        "conf_words_by_bin": [10] * 10,
        "conf_errors_by_bin": [0, 2, 0, 0, 0, 6, 0, 0, 0, 2],
        "conf_sum_by_bin": [0.0] * 10,
    }
    rows = [
        flat_row(sample_id=s, provider=p, condition=c, **words(90, subs=10), **bins)
        for s in ("a", "b")
        for p in ("fw", "ps")
        for c in ("clean", "noise(kind=white, snr_db=10)")
    ]
    frame = rows_frame(rows)
    table = review_targets(frame)
    assert len(table) == 4
    line = table.iloc[0]
    assert line["reviewed <0.7"] == pytest.approx(0.7) and line["caught <0.7"] == pytest.approx(0.8)
    assert line["threshold for 80%"] == pytest.approx(0.6)
    assert line["reviewed there"] == pytest.approx(0.6)
    plot = review_curves(frame)
    assert plot is not None and len(plot.figure.axes) == 2  # one panel per condition
    assert set(plot.data["provider"]) == {"fw", "ps"} and len(plot.data) == 4 * 11
