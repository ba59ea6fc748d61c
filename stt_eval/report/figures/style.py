"""How figures share a look: the :class:`Plot` record, one colour per provider in every figure,
percentages on the axes, and figures laid out to fit a legend beside the axes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f")
PERCENT = 100.0
"""Rates are drawn in percent."""


@dataclass(frozen=True)
class Plot:
    """One figure of a run and exactly the values it draws (rates read from pooled counts)."""

    name: str  # slug, e.g. "wer_vs_snr"
    title: str  # human title
    figure: Figure
    data: pd.DataFrame


def colours(names) -> dict[str, str]:
    """One colour per name, in order of first appearance."""
    unique = list(dict.fromkeys(names))
    return {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(unique)}


def new_figure(width: float = 9.0, height: float = 5.0) -> Figure:
    """A figure drawn without pyplot (safe in servers and threads), laid out to fit its legend."""
    return Figure(figsize=(width, height), layout="constrained")


def legend_outside(ax, **kw) -> None:
    """A legend right of the axes, so it never covers data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, **kw)
