"""What a tune found, as a table and as TOML: every setting tried with its WER, boundary errors,
cost and fate, and the snippet that puts the recommendation into an experiment."""

from __future__ import annotations

import math

import pandas as pd

from stt_eval.report.analysis.sections import ci
from stt_eval.tune.recommend import interval_of
from stt_eval.tune.runner import ProviderTune, TuneResult


def pct(rate: float) -> str:
    """A rate as the report writes it: ``12.3 %``."""
    return "–" if math.isnan(rate) else f"{100 * rate:.1f} %"


def settings_table(tuned: ProviderTune, seed: int = 0) -> pd.DataFrame:
    """One line per setting tried, best WER first among those still in the race: WER over the
    files it saw and its 95 % interval, boundary errors, audio minutes and requests sent, the
    audio sent per minute of recording, and the round it was dropped in and why."""
    rec = tuned.recommendation
    records = []
    for st in tuned.race.standings:
        if not st.files:
            continue
        costs = [tuned.cost(st.setting, f) for f in st.files]
        sent, requests = sum(c[0] for c in costs), sum(c[1] for c in costs)
        recording = sum(tuned.recording_s[f] for f in st.files)
        iv = interval_of(st, seed)
        records.append(
            {
                "setting": st.setting.label,
                "chunking": st.setting.chunking,
                "merge": st.setting.merge,
                "files": len(st.files),
                "wer": st.wer,
                "wer 95 % CI": ci(iv.low, iv.high),
                "boundary errors": _boundary(tuned, st.setting, st.files),
                "audio min": sent / 60.0,
                "requests": requests,
                "sent per min": sent / recording if recording else math.nan,
                "dropped": "–" if st.dropped_round is None else f"round {st.dropped_round}",
                "why": "recommended" if rec and st.setting == rec.setting else st.reason or "–",
            }
        )
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    frame["alive"] = frame["dropped"] == "–"
    frame = frame.sort_values(["alive", "files", "wer"], ascending=[False, False, True])
    return frame.drop(columns="alive").reset_index(drop=True)


def _boundary(tuned: ProviderTune, setting, files) -> int | str:
    """The rows' boundary errors summed over ``files``; – when no row counted any."""
    known = [tuned.boundary[setting, f] for f in files if (setting, f) in tuned.boundary]
    return sum(known) if known else "–"


def toml_snippet(result: TuneResult) -> str:
    """The lines to paste into an experiment: the recommended chunkings and merges (one axis
    for every provider, so the union of their recommendations), each provider's in a comment."""
    recs = [(t.label, t.recommendation) for t in result.providers if t.recommendation]
    if not recs:
        return "# stt-eval tune found no setting to recommend\n"
    lines = [
        f"# stt-eval tune: {label} → {r.setting.label} (WER {pct(r.wer)} on {r.files} files)"
        for label, r in recs
    ]
    chunkings = list(dict.fromkeys(r.setting.chunking for _, r in recs))
    merges = list(dict.fromkeys(r.setting.merge for _, r in recs if r.setting.merge != "none"))
    lines.append("chunking = [" + ", ".join(f'"{c}"' for c in chunkings) + "]")
    if merges:
        lines.append("merge = [" + ", ".join(f'"{m}"' for m in merges) + "]")
    return "\n".join(lines) + "\n"
