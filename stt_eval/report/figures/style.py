"""How figures share a look: the :class:`Plot` record, one colour per provider in every figure,
a colour *and* marker per series that no other series of its panel shares, direct labels, an
interval's whisker only where there are files to resample, percentages on the axes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "p", "h", "*")
HATCHES = ("", "//", "..", "xx")
"""Bars beyond the 8th colour are hatched, so no two bars of a group look alike."""
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


def series_styles(names) -> dict[str, tuple[str, str]]:
    """A (colour, marker) per name, in order of first appearance, no pair repeated for up to
    len(COLOURS) × len(MARKERS) names: the k-th takes colour k and marker k // len(COLOURS), so
    16 chunk settings in one panel stay 16 tellable series."""
    unique = list(dict.fromkeys(names))
    n = len(COLOURS)
    return {
        name: (COLOURS[k % n], MARKERS[(k // n) % len(MARKERS)]) for k, name in enumerate(unique)
    }


def value_text(rate: float, files: int) -> str:
    """A drawn rate as its label: ``47.7 %``, with ``n=1`` where one file gives no interval."""
    if rate != rate:  # NaN: nothing scored
        return "no files"
    return f"{PERCENT * rate:.1f} %" + (" n=1" if files < 2 else "")


def whisker(rate: float, low: float, high: float, files: int) -> tuple[float, float]:
    """How far an interval reaches below and above ``rate`` (in percent); none with fewer than
    2 files, where a resampled interval has zero width and would only look certain."""
    if files < 2 or low != low or high != high:
        return 0.0, 0.0
    return max(0.0, PERCENT * (rate - low)), max(0.0, PERCENT * (high - rate))


def direct_labels(ax, items, gap_pt: float = 11.0) -> None:
    """Write each ``(x, y, text, colour)`` right of its point instead of a legend, moved up
    just enough that no two labels at one x overlap (call once the y limits are set)."""
    height_pt = ax.get_window_extent().height * 72 / ax.figure.dpi
    low, high = ax.get_ylim()
    per_unit = height_pt / (high - low) if high > low else 1.0
    shown = sorted((i for i in items if i[1] == i[1]), key=lambda i: i[1])  # NaN: not drawn
    floors: dict[float, float] = {}
    for x, y, text, colour in shown:
        wanted = y * per_unit
        at = max(wanted, floors.get(x, -float("inf")) + gap_pt)
        floors[x] = at
        ax.annotate(
            text,
            (x, y),
            xytext=(6, at - wanted),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=colour,
            bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 0.5},
        )
