"""The tune's Pareto figure: audio sent per minute of recording against WER. Per provider, two
panels on common files, since WERs over different files do not compare: every setting on the
first round's files, and the settings scored on the most files. Colour is the merge, the marker
the planner; points are labelled on the plot (all of them up to ``LABEL_ALL``, else the frontier
and the recommendation; settings on one spot share a black label)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from stt_eval.chunking import parse_chunking
from stt_eval.report.figures.speed_cost import pareto
from stt_eval.report.figures.style import COLOURS, PERCENT, Plot, new_figure
from stt_eval.tune.runner import ProviderTune

COLOUR_NAMES = ("blue", "red", "green", "purple", "orange", "brown", "pink", "grey")
"""The names of style.COLOURS, for the figure's key."""
MARKERS = {"fixed": "o", "vad": "s", "none": "D"}
"""The planner's marker (unchunked: a diamond)."""
LABEL_ALL = 16
"""Up to this many points a panel labels every one."""


def _planner(chunking: str) -> str:
    return "none" if chunking == "none" else parse_chunking(chunking).planner


def points(tuned: ProviderTune, files: Sequence[str]) -> pd.DataFrame:
    """Each setting scored on all of ``files``: its WER and audio sent per recorded minute there."""
    rec = tuned.recommendation
    recording = sum(tuned.recording_s[f] for f in files)
    records = []
    for st in tuned.race.standings:
        if not files or any(f not in st.counts for f in files):
            continue
        words = sum(st.counts[f][1] for f in files)
        records.append(
            {
                "setting": st.setting.label,
                "chunking": st.setting.chunking,
                "merge": st.setting.merge,
                "files": len(files),
                "wer": sum(st.counts[f][0] for f in files) / words if words else float("nan"),
                "sent per min": sum(tuned.cost(st.setting, f)[0] for f in files) / recording,
                "recommended": rec is not None and st.setting == rec.setting,
            }
        )
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    return frame.assign(front=pareto(frame["sent per min"], frame["wer"]).values)


def _panel(ax, table: pd.DataFrame, colour: dict[str, str], title: str) -> None:
    label_all = len(table) <= LABEL_ALL
    for (x, wer), spot in table.groupby(["sent per min", "wer"], sort=False):
        for _, row in spot.iterrows():
            tint = colour[row["merge"]]
            ax.scatter(
                [x],
                [PERCENT * wer],
                s=70,
                marker=MARKERS[_planner(row["chunking"])],
                facecolor=tint if row["front"] else "white",
                edgecolor=tint,
                linewidth=1.5,
                zorder=3,
            )
        if label_all or spot["front"].any() or spot["recommended"].any():
            # settings on one spot (two merges that gave the same words) share one label
            text = spot["chunking"].iloc[0]
            if text != "none":
                text += " " + "/".join(spot["merge"])
            text += " (recommended)" if spot["recommended"].any() else ""
            tint = colour[spot["merge"].iloc[0]] if len(spot) == 1 else "black"
            ax.annotate(
                text,
                (x, PERCENT * wer),
                textcoords="offset points",
                xytext=(6, 3),
                fontsize=7,
                color=tint,
            )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("audio minutes sent per minute of recording")
    ax.set_ylabel("WER (%) on these files")
    ax.margins(x=0.35, y=0.15)
    ax.grid(alpha=0.3)


def pareto_figure(providers: Sequence[ProviderTune]) -> Plot | None:
    """The figure over every provider that scored at least one file (None: none did)."""
    panels = []
    for t in providers:
        if not t.race.files:
            continue
        first = t.race.files[: t.race.rounds[0]]
        most = max((st.files for st in t.race.standings), key=len)
        panels.append((t.label, f"every setting, first {len(first)} file(s)", points(t, first)))
        if len(most) > len(first):
            panels.append((t.label, f"the last ones, {len(most)} files", points(t, most)))
    if not panels:
        return None
    merges = sorted({m for _, _, table in panels for m in table["merge"]})
    colour = {m: COLOURS[i % len(COLOURS)] for i, m in enumerate(merges)}
    fig = new_figure(6.0 * len(panels), 5.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (label, which, table) in zip(axes, panels):
        _panel(ax, table, colour, f"{label}: {which}")
    key = ", ".join(f"{m} {COLOUR_NAMES[i % len(COLOUR_NAMES)]}" for i, m in enumerate(merges))
    fig.suptitle(
        f"Colour: merge ({key}). Marker: circle fixed, square vad, diamond unchunked. "
        "Filled: on the frontier (no other setting both cheaper and more accurate).",
        fontsize=8,
    )
    data = pd.concat([table.assign(provider=label, panel=which) for label, which, table in panels])
    data = data[["provider", "panel", "setting", "files", "wer", "sent per min", "front"]]
    return Plot("tune_pareto", "Audio sent vs WER per setting", fig, data.reset_index(drop=True))
