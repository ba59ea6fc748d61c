"""The tune's Pareto figure: audio sent per minute of recording against WER, one panel per
provider; colour is the merge, the marker the planner, and the frontier and the recommended
setting are labelled on the plot itself."""

from __future__ import annotations

import pandas as pd

from stt_eval.chunking import parse_chunking
from stt_eval.report.figures.speed_cost import pareto
from stt_eval.report.figures.style import COLOURS, PERCENT, Plot, new_figure

COLOUR_NAMES = ("blue", "red", "green", "purple", "orange", "brown", "pink", "grey")
"""The names of style.COLOURS, for the figure's key."""
MARKERS = {"fixed": "o", "vad": "s", "none": "D"}
"""The planner's marker (unchunked: a diamond)."""


def _planner(chunking: str) -> str:
    return "none" if chunking == "none" else parse_chunking(chunking).planner


def pareto_figure(tables: dict[str, pd.DataFrame]) -> Plot | None:
    """One panel per provider: each setting scored on the most files (the race's survivors:
    WERs of settings dropped earlier come from fewer files and are not comparable), x = audio
    minutes sent per minute of recording, y = WER; hollow points are not on the frontier."""
    tables = {k: t[t["files"] == t["files"].max()] for k, t in tables.items() if len(t)}
    if not tables:
        return None
    merges = sorted({m for t in tables.values() for m in t["merge"]})
    colour = {m: COLOURS[i % len(COLOURS)] for i, m in enumerate(merges)}
    fig = new_figure(5.5 * len(tables), 4.5)
    axes = fig.subplots(1, len(tables), squeeze=False)[0]
    drawn = []
    for ax, (label, table) in zip(axes, tables.items()):
        table = table.assign(front=pareto(table["sent per min"], table["wer"]).values)
        for _, row in table.iterrows():
            x, y, tint = row["sent per min"], PERCENT * row["wer"], colour[row["merge"]]
            ax.scatter(
                [x],
                [y],
                s=70,
                marker=MARKERS[_planner(row["chunking"])],
                facecolor=tint if row["front"] else "white",
                edgecolor=tint,
                linewidth=1.5,
                zorder=3,
            )
            chosen = row["why"] == "recommended"
            if row["front"] or chosen:
                text = row["setting"] + (" (recommended)" if chosen else "")
                ax.annotate(
                    text, (x, y), textcoords="offset points", xytext=(6, 4), fontsize=8, color=tint
                )
        ax.set_title(f"{label} ({int(table['files'].max())} files)")
        ax.set_xlabel("audio minutes sent per minute of recording")
        ax.set_ylabel("WER (%), pooled over the files")
        ax.margins(x=0.3, y=0.2)
        ax.grid(alpha=0.3)
        drawn.append(table.assign(provider=label))
    key = ", ".join(f"{m} {COLOUR_NAMES[i % len(COLOUR_NAMES)]}" for i, m in enumerate(merges))
    fig.suptitle(
        f"Colour: merge ({key}). Marker: circle fixed, square vad, diamond unchunked. "
        "Filled: on the frontier (no setting both cheaper and more accurate).",
        fontsize=8,
    )
    data = pd.concat(drawn)[["provider", "setting", "files", "wer", "sent per min", "front"]]
    return Plot("tune_pareto", "Audio sent vs WER per setting", fig, data.reset_index(drop=True))
