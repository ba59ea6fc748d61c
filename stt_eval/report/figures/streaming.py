"""Streaming figures: the per-word latency CDF of each streaming provider, one panel per
condition, and final latency against WER. Latencies come from the pooled per-word
distributions and WER from pooled counts (:mod:`stt_eval.report.streaming`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stt_eval.report.figures.style import (
    MARKERS,
    PERCENT,
    Plot,
    colours,
    legend_outside,
    new_figure,
)
from stt_eval.report.streaming import pooled_values, streaming_table


def _streamed(frame: pd.DataFrame) -> pd.DataFrame:
    if "mode" not in frame:
        return frame.iloc[0:0]
    return frame[(frame["mode"] == "streaming") & (frame["status"] == "ok")]


def latency_cdf(frame: pd.DataFrame) -> Plot | None:
    """Share of reference words whose final (solid) and first partial (dashed) had arrived by
    each latency, per streaming provider; one panel per condition, shared axes."""
    rows = _streamed(frame)
    if rows.empty or not pooled_values(rows["final_latency_s"]):
        return None
    conditions = list(dict.fromkeys(rows["condition"]))
    colour = colours(rows["provider"])
    fig = new_figure(4.2 * len(conditions) + 2.5, 4.2)
    axes = fig.subplots(1, len(conditions), sharex=True, sharey=True, squeeze=False)[0]
    data = []
    for ax, condition in zip(axes, conditions):
        for provider, group in rows[rows["condition"] == condition].groupby("provider", sort=False):
            for kind, style in (("final", "-"), ("partial", "--")):
                values = np.sort(pooled_values(group[f"{kind}_latency_s"]))
                if not len(values):
                    continue
                share = np.arange(1, len(values) + 1) / len(values)
                label = f"{provider}, {kind}" if ax is axes[-1] else None
                ax.step(values, share, where="post", ls=style, color=colour[provider], label=label)
                data += [
                    {"provider": provider, "condition": condition, "kind": kind, "latency_s": v}
                    for v in values
                ]
        ax.set_title(condition, fontsize=9)
        ax.set_xlabel("latency after the word's end (s)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of reference words")
    legend_outside(axes[-1])
    title = "Per-word latency CDF (solid: final, dashed: first partial)"
    return Plot("latency_cdf", title, fig, pd.DataFrame(data))


def latency_vs_wer(frame: pd.DataFrame) -> Plot | None:
    """Median per-word final latency against streaming WER, per provider × condition."""
    table = streaming_table(frame)
    if table.empty or table["final p50 ms"].isna().all():
        return None
    table = table[["provider", "condition", "final p50 ms", "final p95 ms", "wer", "batch wer"]]
    colour = colours(table["provider"])
    marker = {c: MARKERS[k % len(MARKERS)] for k, c in enumerate(dict.fromkeys(table["condition"]))}
    fig = new_figure(8.5, 4.8)
    ax = fig.add_subplot()
    for row in table.itertuples(index=False):
        ax.scatter(
            [row[2] / 1000],
            [PERCENT * row.wer],
            s=90,
            marker=marker[row.condition],
            color=colour[row.provider],
            edgecolor="black",
            label=f"{row.provider}, {row.condition}",
        )
    ax.set_xlabel("median per-word final latency (s)")
    ax.set_ylabel("streaming WER (%), pooled over files")
    ax.set_ylim(bottom=0)
    ax.margins(x=0.2, y=0.2)
    ax.grid(alpha=0.3)
    ax.set_title("Latency vs WER (streaming)")
    legend_outside(ax)
    return Plot("latency_vs_wer", "Latency vs WER (streaming)", fig, table)
