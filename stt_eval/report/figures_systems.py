"""Figures that compare whole systems: speed and list price against WER (with the Pareto
frontier), and diarization error by condition. See :mod:`stt_eval.report.figures`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stt_eval.report.figure_parts import (
    PERCENT,
    Plot,
    colours,
    in_reading_order,
    legend_outside,
    new_figure,
    pareto,
    short_label,
    systems,
)
from stt_eval.report.tables import TOTAL, pooled, pooled_der, speed_and_cost

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<")


def _tradeoff(frame: pd.DataFrame) -> pd.DataFrame:
    """Per system: pooled WER beside its pooled speed and list price."""
    frame = systems(frame)
    speed = speed_and_cost(frame)
    if speed.empty:
        return speed
    wer = pooled(frame, ["provider"], total=False)[["provider", "wer", "ref_words", "files"]]
    return wer.merge(speed, on="provider")


def _scatter(
    table: pd.DataFrame, x: str, xlabel: str, maximise: bool, name: str, title: str
) -> Plot:
    table = table.assign(pareto=pareto(-table[x] if maximise else table[x], table["wer"]))
    colour = colours(table["provider"])
    fig = new_figure(8.5, 4.8)
    ax = fig.add_subplot()
    front = table[table["pareto"]].sort_values(x)
    if len(front) > 1:
        ax.step(
            front[x],
            PERCENT * front["wer"],
            where="post" if maximise else "pre",
            color="grey",
            ls="--",
            lw=1,
            zorder=1,
            label="Pareto frontier",
        )
    for k, row in enumerate(table.itertuples()):
        on = bool(row.pareto)
        # shapes differ and each next point is smaller, so systems that land on one spot (two
        # merges of the same chunks run equally fast) all stay visible
        size = 200 - 120 * k / max(1, len(table) - 1)
        ax.scatter(
            [getattr(row, x)],
            [PERCENT * row.wer],
            s=size,
            zorder=3 + k,
            marker=MARKERS[k % len(MARKERS)],
            color=colour[row.provider],
            edgecolor="black" if on else "white",
            label=row.provider,
        )
        if on:  # the frontier is labelled; the legend names every point
            ax.annotate(
                f"{row.provider}\n(Pareto frontier)",
                (getattr(row, x), PERCENT * row.wer),
                textcoords="offset points",
                xytext=(8, 4),
                fontsize=8,
            )
    positive = table[x][table[x] > 0]
    if len(positive) == len(table) and positive.max() / positive.min() > 20:
        ax.set_xscale("log")
    ax.margins(x=0.25, y=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("WER (%), pooled over files and conditions")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title(title)
    legend_outside(ax)
    return Plot(name, title, fig, table.reset_index(drop=True))


def speed_vs_wer(frame: pd.DataFrame) -> Plot | None:
    """RTFx (audio seconds per second of request latency, pooled) against pooled WER per
    system, the Pareto frontier (faster and more accurate than every other) marked."""
    table = _tradeoff(frame)
    if table.empty or table["rtfx"].dropna().empty:
        return None
    table = table[table["rtfx"].notna()]
    return _scatter(
        table,
        "rtfx",
        "RTFx (× faster than real time, pooled; higher is faster)",
        True,
        "speed_vs_wer",
        "Speed vs WER",
    )


def cost_vs_wer(frame: pd.DataFrame) -> Plot | None:
    """List price per audio hour against pooled WER per system with a known price; None when
    no system costs anything (local engines alone)."""
    table = _tradeoff(frame)
    if table.empty or not (table["usd_per_audio_hour"].fillna(0) > 0).any():
        return None
    table = table[table["usd_per_audio_hour"].notna()]
    return _scatter(
        table,
        "usd_per_audio_hour",
        "list price (USD per audio hour)",
        False,
        "cost_vs_wer",
        "Cost vs WER",
    )


def der_by_condition(frame: pd.DataFrame) -> Plot | None:
    """Pooled DER split into missed speech, false alarm and speaker confusion per diarizer and
    condition (TOTAL last), with JER and each provider's cpWER beside it."""
    table = pooled_der(frame)
    if table.empty:
        return None
    order = {c: i for i, c in enumerate([*in_reading_order(frame["condition"]), TOTAL])}
    rank = [
        (list(dict.fromkeys(table["diarizer"])).index(d), order.get(c, len(order)))
        for d, c in zip(table["diarizer"], table["condition"])
    ]
    table = table.iloc[sorted(range(len(table)), key=rank.__getitem__)].reset_index(drop=True)
    several = table["diarizer"].nunique() > 1
    labels = [
        ("all conditions" if c == TOTAL else short_label(c)) + (f" · {d}" if several else "")
        for d, c in zip(table["diarizer"], table["condition"])
    ]
    cp_cols = [c for c in table.columns if c.startswith("cpwer ")]
    fig = new_figure(11, 0.45 * len(table) + 2.2)
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    y = np.arange(len(table))[::-1]
    start = np.zeros(len(table))
    parts = (
        ("miss", "missed speech", "#4c72b0"),
        ("fa", "false alarm", "#dd8452"),
        ("conf", "speaker confusion", "#c44e52"),
    )
    for col, label, colour in parts:
        values = PERCENT * table[col].to_numpy(dtype=float)
        left.barh(y, values, left=start, color=colour, label=label, height=0.6)
        start = start + np.nan_to_num(values)
    for yy, total in zip(y, PERCENT * table["der"]):
        left.annotate(
            f"{total:.1f} %",
            (total, yy),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    left.set_yticks(y, labels)
    left.set_xlabel("DER (%) = missed + false alarm + confusion")
    left.set_xlim(0, max(1.0, float(np.nanmax(start))) * 1.2)
    left.set_title("Diarization error rate, pooled", fontsize=10)
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8, frameon=False)
    # JER in grey, each provider's cpWER in the colour that provider has in every figure
    provider_colour = colours(frame["provider"])
    metrics = [
        ("jer", "JER", "#555555"),
        *((c, "cpWER " + c[6:], provider_colour.get(c[6:], "#999999")) for c in cp_cols),
    ]
    height = 0.8 / len(metrics)
    for k, (col, label, colour) in enumerate(metrics):
        offset = (k - (len(metrics) - 1) / 2) * height
        right.barh(
            y - offset, PERCENT * table[col].astype(float), height=height, color=colour, label=label
        )
    right.set_xlabel("JER / cpWER (%)")
    right.set_title("JER and cpWER beside it", fontsize=10)
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Diarization by condition", fontsize=11)
    return Plot("der_by_condition", "Diarization by condition", fig, table)
