"""Mix + diarization vs split: what transcribing by channel is worth, per provider and condition.

Only samples that have a ``split`` row are compared, so every setup is scored on the same files.
A setup is ``split`` (speakers from channels) or ``mix + <diarizer>`` (``mix`` alone: no
speakers, so no DER/cpWER). Rates come from pooled counts (the value objects of
``stt_eval.metrics``); a rate whose counts no row carries is NaN. ``audio_sent_min`` is what a
provider is sent: split sends every channel, so it doubles a paid provider's minutes and cost.
"""

from __future__ import annotations

import pandas as pd

from stt_eval.report.systems import by_setting
from stt_eval.report.tables import columns, rates

KEY = ["provider", "condition", "setup"]

NOTE = (
    "Files with channels or tracks only. split: each channel transcribed apart, speakers from "
    "channels; mix + <diarizer>: the downmix, speakers from the diarizer. Rates pooled from "
    "counts; crosstalk_words: words a channel transcribed from another's leakage; "
    "audio_sent_min counts every channel sent.\n"
)


def _setup(frame: pd.DataFrame) -> pd.Series:
    diarizer = "mix + " + frame["diarizer"].astype(str)
    mix = diarizer.where(frame["diarizer"] != "none", "mix")
    return mix.where(frame["channel_mode"] != "split", "split")


def mix_vs_split(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per provider × condition × setup (× chunk setting, when several): files, failures, WER, cpWER, DER, JER,
    cross-talk words (and per reference word), audio minutes sent and list price."""
    if "channel_mode" not in frame or not (frame["channel_mode"] == "split").any():
        return pd.DataFrame()
    split_ids = set(frame.loc[frame["channel_mode"] == "split", "sample_id"])
    rows = frame[frame["sample_id"].isin(split_ids)].copy()
    rows["setup"] = _setup(rows)
    key = by_setting(rows, KEY, skip=("channel_mode",))  # the setup says the mode
    ok = rows["status"] == "ok"
    speakers = columns("der", "jer", "cpwer")
    data = rows[key].assign(
        files=ok.astype(int),
        failed=(~ok).astype(int),
        der_rows=(ok & rows["der_total_s"].notna()).astype(int),
        cp_rows=(ok & rows["cp_ref_words"].notna()).astype(int),
        crosstalk_rows=(ok & rows["crosstalk_words"].notna()).astype(int),
        crosstalk_words=rows["crosstalk_words"].where(ok).astype(float).fillna(0),
        audio_sent_min=(rows["audio_s"] * rows["streams"]).where(ok, 0) / 60,
        cost_usd=rows["cost_usd"].where(ok),
        **{c: rows[c].where(ok, 0) for c in columns("words")},
        **{c: rows[c].where(ok).astype(float).fillna(0) for c in speakers},
    )
    grouped = data.groupby(key, sort=False)
    sums = grouped.sum(numeric_only=True)
    sums["cost_usd"] = grouped["cost_usd"].sum(min_count=1)
    out = sums[["files", "failed"]].copy()
    out["wer"] = rates(sums, "wer")
    out["cpwer"] = rates(sums.assign(none=sums["cp_rows"] == 0), "cpwer", unknown="none")
    known_der = sums.assign(none=sums["der_rows"] == 0)
    out["der"] = rates(known_der, "der", unknown="none")
    out["jer"] = rates(known_der, "jer", unknown="none")
    leaked = sums["crosstalk_words"].where(sums["crosstalk_rows"] > 0)
    out["crosstalk_words"] = leaked.round().astype("Int64")
    out["crosstalk_rate"] = leaked / sums["ref_words"].where(sums["ref_words"] > 0)
    out["audio_sent_min"] = sums["audio_sent_min"]
    out["cost_usd"] = sums["cost_usd"]
    return out.reset_index()
