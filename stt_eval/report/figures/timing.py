"""The word-time drift figure: the mean signed start error of words against reference times,
per 15 s of the recording, one line per provider and chunk setting — a chunk merge that shifts
a window's words shows as a step at once."""

from __future__ import annotations

import pandas as pd

from stt_eval.metrics.registry import METRICS
from stt_eval.metrics.timing import TimingCounts
from stt_eval.report.analysis.intervals import ok_rows
from stt_eval.report.figures.style import Plot, colours, legend_outside, new_figure


def drift_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Long table: per provider × condition × chunking × merge and drift bin, the words paired
    and their mean signed start error (seconds), from pooled counts."""
    ok = ok_rows(frame)
    if ok.empty or "timed_words" not in ok or ok["timed_words"].isna().all():
        return pd.DataFrame()
    by = [c for c in ("provider", "condition", "chunking", "merge") if c in ok]
    timing = METRICS["timing"]
    records = []
    for key, group in ok[ok["timed_words"].notna()].groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        pooled = sum((timing.read(r) for r in group.to_dict("records")), TimingCounts())
        for start, words, mean in pooled.drift():
            records.append({**dict(zip(by, key)), "from_s": start, "words": words, "error_s": mean})
    return pd.DataFrame(records)


def word_time_drift(frame: pd.DataFrame) -> Plot | None:
    """Mean signed start error (ms) against time in the recording, per setting."""
    table = drift_table(frame)
    if table.empty:
        return None
    setting = [c for c in ("provider", "condition", "chunking", "merge") if c in table]
    labels = table[setting].astype(str).agg(" · ".join, axis=1)
    colour = colours(labels)
    fig = new_figure(9, 4)
    ax = fig.subplots()
    for label, line in table.groupby(labels, sort=False):
        ax.plot(
            line["from_s"], 1000 * line["error_s"], marker="o", color=colour[label], label=label
        )
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel("time in the recording (s, start of each 15 s bin)")
    ax.set_ylabel("mean start error (ms; + late)")
    ax.set_title("Word-time drift against reference times", fontsize=10)
    legend_outside(ax)
    return Plot("word_time_drift", "Word-time drift", fig, table)
