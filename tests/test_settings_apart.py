"""No table pools chunk settings or channel modes: 16 chunk settings of the same audio are 16
results, a split transcript is another than the mix one. Every table and TOTAL row of a run
with several settings is checked against rates pooled here by hand, one setting at a time."""

from __future__ import annotations

import pytest

from stt_eval.report.analysis.errors import flags_table, top_edits
from stt_eval.report.markdown import by_condition, summary_blocks
from stt_eval.report.mix_vs_split import mix_vs_split
from stt_eval.report.tables import TOTAL, pooled, pooled_der, speed_and_cost
from stt_eval.run.directory import rows_frame

from .conftest import flat_row

SETTINGS = (("none", "none", 1), ("10s/2s", "timestamp", 4), ("20s/4s", "text-align", 7))
CONDITIONS = ("clean", "noise(kind=white, snr_db=10)")
NATIVE_SPEAKERS = dict(
    diarizer="provider",
    der_missed_s=1.0,
    der_false_alarm_s=0.5,
    der_confusion_s=1.0,
    der_total_s=10.0,
    cp_ref_words=20,
    cp_subs=2,
    cp_dels=0,
    cp_ins=0,
    cp_errors=2,
)
"""A provider's own speaker turns: DER and cpWER counts a row carries."""


def _rows(**extra):
    """One provider, three settings (errors 1, 4, 7 per file), two conditions, two files."""
    rows = []
    for chunking, merge, errors in SETTINGS:
        for k, condition in enumerate(CONDITIONS):
            for sample, n in (("s1", 20), ("s2", 40)):
                rows.append(
                    flat_row(
                        "r",
                        sample,
                        "A",
                        condition,
                        chunking=chunking,
                        merge=merge,
                        subs=errors + k,
                        hits=n - errors - k,
                        dels=0,
                        ins=0,
                        ref_words=n,
                        audio_s=n / 2,
                        latency_s=errors,
                        sub_words=[f"w{errors} → x"],
                        **extra,
                    )
                )
    return rows


def _by_hand(rows, chunking, condition=None):
    picked = [
        r.columns()
        for r in rows
        if r.columns()["chunking"] == chunking
        and (condition is None or r.columns()["condition"] == condition)
    ]
    return sum(r["subs"] for r in picked) / sum(r["ref_words"] for r in picked)


def test_the_pooled_table_has_a_total_per_setting_never_one_over_settings():
    rows = _rows()
    frame = rows_frame(rows)
    table = pooled(frame, ["provider", "condition"])  # settings not asked: grouped anyway
    totals = table[table["condition"] == TOTAL]
    assert sorted(totals["chunking"]) == sorted(c for c, _, _ in SETTINGS)
    for chunking, _, _ in SETTINGS:
        row = totals[totals["chunking"] == chunking]
        assert float(row["wer"].iloc[0]) == pytest.approx(_by_hand(rows, chunking))
        assert int(row["files"].iloc[0]) == 2 * len(CONDITIONS)  # files × conditions of ONE setting
    assert len(table) == len(SETTINGS) * (len(CONDITIONS) + 1)

    summary = next(b for b in summary_blocks(frame, "t", "n") if hasattr(b, "frame")).frame
    assert TOTAL not in set(summary["chunking"])  # no TOTAL row pools chunk settings


def test_one_condition_needs_no_total_and_gets_none():
    rows = [r for r in _rows() if r.columns()["condition"] == "clean"]
    table = pooled(rows_frame(rows), ["provider"])
    assert TOTAL not in set(table.astype(str).to_numpy().ravel())
    assert list(table["wer"]) == pytest.approx([_by_hand(rows, c) for c, _, _ in SETTINGS])


def test_wer_by_condition_has_a_cell_per_setting_and_systems_down_when_many():
    rows = _rows()
    table = by_condition(rows_frame(rows))
    assert list(table["system"]) == [
        "A · unchunked",
        "A · 10s/2s timestamp",
        "A · 20s/4s text-align",
    ]
    cell = table.set_index("system").loc["A · 20s/4s text-align", CONDITIONS[1]]
    assert cell.startswith(f"{100 * _by_hand(rows, '20s/4s', CONDITIONS[1]):.1f} %")
    total = table.set_index("system").loc["A · 10s/2s timestamp", TOTAL]
    assert total.startswith(f"{100 * _by_hand(rows, '10s/2s'):.1f} %")


def test_speed_edits_and_flags_are_per_setting():
    rows = _rows()
    frame = rows_frame(rows)
    speed = speed_and_cost(frame).set_index("chunking")
    for chunking, _, errors in SETTINGS:
        assert speed.loc[chunking, "latency_s"] == pytest.approx(errors * 4)
        assert speed.loc[chunking, "rtfx"] == pytest.approx((10 + 20) * 2 / (errors * 4))
    edits = top_edits(frame, "sub")
    assert sorted(zip(edits["chunking"], edits["edit"])) == sorted(
        (c, f"w{e} → x") for c, _, e in SETTINGS
    )
    assert list(edits["share"]) == [1.0, 1.0, 1.0]
    flags = flags_table(frame)
    assert len(flags) == len(SETTINGS) * len(CONDITIONS)
    assert set(flags["transcripts"]) == {2}


def test_mix_and_split_are_apart_in_every_table():
    mix = [r for r in _rows() if r.columns()["chunking"] == "10s/2s"]
    split = [
        flat_row(
            **{**r.columns(), "channel_mode": "split", "subs": 0, "hits": r.columns()["ref_words"]}
        )
        for r in mix
    ]
    frame = rows_frame(mix + split)
    table = pooled(frame, ["provider"])
    wer = dict(zip(table["channel_mode"], table["wer"]))
    assert wer == {"mix": pytest.approx(_by_hand(mix, "10s/2s")), "split": 0.0}
    speed = speed_and_cost(frame)
    assert sorted(speed["channel_mode"]) == ["mix", "split"]


def test_native_diarization_and_cpwer_are_per_setting():
    frame = rows_frame(_rows(**NATIVE_SPEAKERS))
    der = pooled_der(frame)
    names = set(der["diarizer"])
    assert names == {
        "provider:A · unchunked",
        "provider:A · 10s/2s timestamp",
        "provider:A · 20s/4s text-align",
    }
    assert {c for c in der.columns if c.startswith("cpwer ")} == {
        "cpwer A · unchunked",
        "cpwer A · 10s/2s timestamp",
        "cpwer A · 20s/4s text-align",
    }


def test_mix_vs_split_keeps_chunk_settings_apart():
    mix = [r for r in _rows() if r.columns()["chunking"] != "20s/4s"]
    split = [flat_row(**{**r.columns(), "channel_mode": "split"}) for r in mix]
    table = mix_vs_split(rows_frame(mix + split))
    assert set(zip(table["chunking"], table["setup"])) == {
        ("none", "mix"),
        ("none", "split"),
        ("10s/2s", "mix"),
        ("10s/2s", "split"),
    }
