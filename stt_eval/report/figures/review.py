"""The review-signal figure: per condition, each provider's share of errors caught against the
share of words sent to review as the confidence threshold rises (bin edges 0 … 1), the usual
0.7 rule marked. A curve hugging the top left is a confidence worth routing words on."""

from __future__ import annotations

import math
import textwrap

import pandas as pd

from stt_eval.metrics.confidence import REVIEW_THRESHOLD
from stt_eval.report.analysis.errors import review_curve
from stt_eval.report.figures.labels import in_reading_order, short_label
from stt_eval.report.figures.style import PERCENT, Plot, colours, legend_outside, new_figure


def review_curves(frame: pd.DataFrame) -> Plot | None:
    """Errors caught vs words reviewed per provider, one panel per condition."""
    curve = review_curve(frame, ("provider", "condition"))
    if curve.empty:
        return None
    conditions = [c for c in in_reading_order(frame["condition"]) if c in set(curve["condition"])]
    colour = colours(frame["provider"])
    cols = min(3, len(conditions))
    rows = math.ceil(len(conditions) / cols)
    fig = new_figure(3.6 * cols + 1.8, 3.2 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    for ax, condition in zip(axes.flat, conditions):
        for provider, line in curve[curve["condition"] == condition].groupby(
            "provider", sort=False
        ):
            x, y = PERCENT * line["reviewed"], PERCENT * line["caught"]
            ax.plot(x, y, marker="o", markersize=3, color=colour[provider], label=provider)
            rule = line[(line["threshold"] - REVIEW_THRESHOLD).abs() < 1e-9]
            ax.plot(
                PERCENT * rule["reviewed"],
                PERCENT * rule["caught"],
                marker="s",
                markersize=8,
                fillstyle="none",
                color=colour[provider],
            )
        ax.plot([0, 100], [0, 100], color="#bbbbbb", linewidth=0.8, linestyle=":")
        ax.set_title(textwrap.fill(short_label(condition), 40), fontsize=8)
        ax.set_xlabel("words sent to review (%)")
        ax.set_ylabel("errors caught (%)")
    for ax in list(axes.flat)[len(conditions) :]:
        ax.set_visible(False)
    legend_outside(axes.flat[cols - 1])
    fig.suptitle(
        f"Confidence as a review signal (□: words below {REVIEW_THRESHOLD:g}; dotted: chance)",
        fontsize=10,
    )
    return Plot("review_curves", "Confidence review curves", fig, curve)
