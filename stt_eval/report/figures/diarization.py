"""The diarization figure: pooled DER split into its parts per diarizer and condition, with JER
and each provider's cpWER beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stt_eval.report.figures.labels import in_reading_order, short_label
from stt_eval.report.figures.style import COLOURS, HATCHES, PERCENT, Plot, new_figure, series_styles
from stt_eval.report.tables import TOTAL, pooled_der


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
    # JER in grey, each system's cpWER in a colour (and, past 8, a hatch) no other bar shares
    style = series_styles(c[6:] for c in cp_cols)
    metrics = [
        ("jer", "JER", "#555555", ""),
        *(
            (c, "cpWER " + c[6:], style[c[6:]][0], HATCHES[k // len(COLOURS) % len(HATCHES)])
            for k, c in enumerate(cp_cols)
        ),
    ]
    height = 0.8 / len(metrics)
    for k, (col, label, colour, hatch) in enumerate(metrics):
        offset = (k - (len(metrics) - 1) / 2) * height
        values = PERCENT * table[col].astype(float)
        right.barh(y - offset, values, height=height, color=colour, hatch=hatch, label=label)
    right.set_xlabel("JER / cpWER (%)")
    right.set_title("JER and cpWER beside it", fontsize=10)
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8, frameon=False)
    fig.suptitle("Diarization by condition", fontsize=11)
    return Plot("der_by_condition", "Diarization by condition", fig, table)
