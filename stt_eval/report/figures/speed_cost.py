"""Speed and price against accuracy: RTFx and list price per audio hour beside pooled WER per
system, with the Pareto frontier (no other system both better and cheaper or faster)."""

from __future__ import annotations

import math

import pandas as pd

from stt_eval.report.figures.style import PERCENT, Plot, legend_outside, new_figure, series_styles
from stt_eval.report.systems import systems
from stt_eval.report.tables import pooled, speed_and_cost


def pareto(cost: pd.Series, wer: pd.Series) -> pd.Series:
    """True where no other point has lower-or-equal ``cost`` and ``wer`` with one strictly
    lower (both minimised; pass ``-speed`` to maximise speed)."""
    points = list(zip(cost, wer))
    out = []
    for c, w in points:
        if math.isnan(c) or math.isnan(w):
            out.append(False)
            continue
        dominated = any(
            (c2 <= c and w2 <= w) and (c2 < c or w2 < w)
            for c2, w2 in points
            if not (math.isnan(c2) or math.isnan(w2))
        )
        out.append(not dominated)
    return pd.Series(out, index=cost.index)


def _tradeoff(frame: pd.DataFrame) -> pd.DataFrame:
    """Per system: pooled WER beside its pooled speed and list price."""
    frame = systems(frame)
    speed = speed_and_cost(frame)
    if speed.empty:
        return speed
    wer = pooled(frame, ["provider"], total=False)[["provider", "wer", "ref_words", "files"]]
    return wer.merge(speed, on="provider")


def _scatter(
    table: pd.DataFrame, x: str, xlabel: str, *, name: str, title: str, maximise: bool = False
) -> Plot:
    """Each system's ``x`` against its WER, the Pareto frontier (``x`` minimised, or maximised
    with ``maximise``) drawn and labelled."""
    table = table.assign(pareto=pareto(-table[x] if maximise else table[x], table["wer"]))
    style = series_styles(table["provider"])
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
        colour, marker = style[row.provider]
        # each system its own colour and shape, each next point smaller, so systems that land
        # on one spot (two merges of the same chunks run equally fast) all stay visible
        ax.plot(
            [getattr(row, x)],
            [PERCENT * row.wer],
            ls="none",
            ms=14 - 8 * k / max(1, len(table) - 1),
            zorder=3 + k,
            marker=marker,
            color=colour,
            mec="black" if on else "white",
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
    axis = "RTFx (× faster than real time, pooled; higher is faster)"
    return _scatter(table, "rtfx", axis, maximise=True, name="speed_vs_wer", title="Speed vs WER")


def cost_vs_wer(frame: pd.DataFrame) -> Plot | None:
    """List price per audio hour against pooled WER per system with a known price; None when
    no system costs anything (local engines alone)."""
    table = _tradeoff(frame)
    if table.empty or not (table["usd_per_audio_hour"].fillna(0) > 0).any():
        return None
    table = table[table["usd_per_audio_hour"].notna()]
    axis = "list price (USD per audio hour)"
    return _scatter(table, "usd_per_audio_hour", axis, name="cost_vs_wer", title="Cost vs WER")
