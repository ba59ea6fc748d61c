"""The chunking figure: pooled WER per chunk length × overlap, with the errors made near cuts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stt_eval.chunking.settings import parse_chunking
from stt_eval.report.figures.style import PERCENT, Plot, new_figure
from stt_eval.report.tables import pooled


def chunking_heatmap(frame: pd.DataFrame) -> Plot | None:
    """Pooled WER per chunk length × overlap, one panel per provider and merge strategy (and
    planner), each cell annotated with the errors within ±1 s of a cut; conditions pooled."""
    chunked = frame[frame["chunking"] != "none"]
    if not (chunked["status"] == "ok").any():
        return None
    table = pooled(frame, ["provider", "chunking", "merge"], total=False)
    settings = {c: parse_chunking(c) for c in table["chunking"]}
    table["chunk_s"] = [settings[c].chunk_s for c in table["chunking"]]
    table["overlap_s"] = [
        settings[c].overlap_s if settings[c].enabled else np.nan for c in table["chunking"]
    ]
    table["planner"] = [
        settings[c].planner if settings[c].enabled else "none" for c in table["chunking"]
    ]
    if "boundary_errors" not in table:
        table["boundary_errors"] = pd.array([pd.NA] * len(table), dtype="Int64")
    cells = table[table["chunk_s"].notna()]
    panels = list(dict.fromkeys(zip(cells["provider"], cells["merge"], cells["planner"])))
    providers = list(dict.fromkeys(p for p, _, _ in panels))
    strategies = list(dict.fromkeys((m, pl) for _, m, pl in panels))
    vmax = PERCENT * max(float(cells["wer"].max()), 1e-9)
    fig = new_figure(3.2 * len(strategies) + 1.2, 2.8 * len(providers) + 0.6)
    axes = fig.subplots(len(providers), len(strategies), squeeze=False)
    image = None
    for i, provider in enumerate(providers):
        for j, (merge, planner) in enumerate(strategies):
            ax = axes[i][j]
            part = cells[
                (cells["provider"] == provider)
                & (cells["merge"] == merge)
                & (cells["planner"] == planner)
            ]
            if part.empty:
                ax.set_axis_off()
                continue
            lengths, overlaps = sorted(part["chunk_s"].unique()), sorted(part["overlap_s"].unique())
            grid = np.full((len(lengths), len(overlaps)), np.nan)
            for row in part.itertuples():
                r, c = lengths.index(row.chunk_s), overlaps.index(row.overlap_s)
                grid[r, c] = PERCENT * row.wer
                at_cuts = "" if pd.isna(row.boundary_errors) else f"\n{row.boundary_errors} at cuts"
                ax.text(
                    c,
                    r,
                    f"{PERCENT * row.wer:.1f} %{at_cuts}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if grid[r, c] > 0.6 * vmax else "black",
                )
            for r, c in zip(*np.nonzero(np.isnan(grid))):
                ax.text(c, r, "not run", ha="center", va="center", fontsize=8, color="grey")
            image = ax.imshow(
                grid, cmap="viridis_r", vmin=0, vmax=vmax, aspect="auto", origin="lower"
            )
            ax.set_xticks(range(len(overlaps)), [f"{o:g}" for o in overlaps])
            ax.set_yticks(range(len(lengths)), [f"{v:g}" for v in lengths])
            ax.set_xlabel("overlap (s)")
            ax.set_ylabel("chunk length (s)")
            whole = table[(table["provider"] == provider) & (table["chunking"] == "none")]
            extra = f"\nunchunked: {PERCENT * whole['wer'].iloc[0]:.1f} %" if len(whole) else ""
            vad = "" if planner == "fixed" else f", {planner} cuts"
            ax.set_title(f"{provider} · merge {merge}{vad}{extra}", fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=axes, label="WER (%), pooled", shrink=0.8)
    fig.suptitle(
        "WER by chunk length × overlap (all conditions pooled; errors within ±1 s "
        "of a cut annotated)",
        fontsize=10,
    )
    return Plot("chunking_heatmap", "Chunk length × overlap", fig, table)
