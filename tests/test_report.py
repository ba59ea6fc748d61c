"""Report tables pool counts (never average rates) and count a local diarizer's DER once per file."""

from __future__ import annotations

import pytest

from stt_eval.report.markdown import summary_markdown
from stt_eval.report.tables import pooled, pooled_der
from stt_eval.runner import rows_frame
from stt_eval.types import ResultRow


def _row(sample, provider, errors, n, **kw):
    return ResultRow("r", sample, provider, subs=errors, hits=n - errors, ref_words=n, **kw)


def test_pooled_wer_is_total_errors_over_total_words():
    frame = rows_frame(
        [
            _row("a", "p", 10, 10),
            _row("b", "p", 0, 90),
            _row("c", "p", 0, 0, status="failed", error="x"),
        ]
    )
    (line,) = pooled(frame, ["provider"]).to_dict("records")
    assert line["wer"] == pytest.approx(0.10)  # the mean of per-file rates would be 50 %
    assert (line["files"], line["failed"]) == (2, 1)


def test_local_diarizer_der_counted_once_per_file_across_providers():
    der = {
        "diarizer": "senko",
        "der_missed_s": 1.0,
        "der_false_alarm_s": 0.0,
        "der_confusion_s": 1.0,
        "der_total_s": 10.0,
        "jer": 0.2,
    }
    rows = [_row("a", p, 0, 5, **der) for p in ("p1", "p2")] + [
        _row("b", p, 0, 5, **{**der, "der_confusion_s": 3.0, "der_total_s": 30.0})
        for p in ("p1", "p2")
    ]
    (line,) = pooled_der(rows_frame(rows)).to_dict("records")
    assert line["files"] == 2
    assert line["der"] == pytest.approx((2 + 4) / 40)  # seconds pooled, each file once
    assert line["conf"] == pytest.approx(4 / 40)


def test_summary_lists_failures_with_their_reasons():
    frame = rows_frame(
        [
            _row("a", "p", 1, 10),
            _row("bad", "p", 0, 0, status="failed", error="bad.wav: file is empty"),
        ]
    )
    text = summary_markdown(frame, "t", "whisper")
    assert "## Failures (1)" in text and "bad.wav: file is empty" in text
    assert "| p | 10.0 % | 1 | 0 | 0 | 10 | 1 | 1 |" in text
