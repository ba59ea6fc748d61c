"""The chunking figure: pooled WER per chunk setting beside the errors made near cuts, with
the unchunked baseline. Its shape follows the data: a heatmap of chunk length × overlap where a
panel has both to vary, else WER against chunk length, a labelled line per overlap and merge
(a grid of one setting would be a one-cell heatmap)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stt_eval.chunking.settings import parse_chunking
from stt_eval.report.figures.style import (
    PERCENT,
    Plot,
    direct_labels,
    new_figure,
    series_styles,
    value_text,
)
from stt_eval.report.tables import pooled

TITLE = "Chunk settings: WER and errors at cuts"


def chunk_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Pooled WER and summed boundary errors per provider × chunking × merge (conditions
    pooled), with each setting's chunk length, overlap and planner (NaN / "none" unchunked)."""
    table = pooled(frame, ["provider", "chunking", "merge"], total=False)
    settings = {c: parse_chunking(c) for c in table["chunking"]}
    on = {c: s.enabled for c, s in settings.items()}
    table["chunk_s"] = [settings[c].chunk_s if on[c] else np.nan for c in table["chunking"]]
    table["overlap_s"] = [settings[c].overlap_s if on[c] else np.nan for c in table["chunking"]]
    table["planner"] = [settings[c].planner if on[c] else "none" for c in table["chunking"]]
    if "boundary_errors" not in table:
        table["boundary_errors"] = pd.array([pd.NA] * len(table), dtype="Int64")
    return table


def _baseline(table: pd.DataFrame, provider: str) -> float:
    whole = table[(table["provider"] == provider) & (table["chunking"] == "none")]
    return float(whole["wer"].iloc[0]) if len(whole) else np.nan


def _strategy(merge: str, planner: str) -> str:
    return f"merge {merge}" + ("" if planner == "fixed" else f", {planner} cuts")


def chunking_heatmap(frame: pd.DataFrame) -> Plot | None:
    """The chunking figure of a run with chunked rows (None without): a heatmap per provider
    and merge where chunk length and overlap both vary, else lines (see the module)."""
    chunked = frame[frame["chunking"] != "none"]
    if not (chunked["status"] == "ok").any():
        return None
    table = chunk_table(frame)
    cells = table[table["chunk_s"].notna()]
    if any(_crossed(g) for _, g in cells.groupby(["provider", "merge", "planner"], sort=False)):
        return Plot("chunking_heatmap", TITLE, _heatmaps(table, cells), table)
    return Plot("chunking_by_length", TITLE, _lines(table, cells), table)


def _crossed(part: pd.DataFrame) -> bool:
    """Whether a panel's settings cross: a length at two overlaps and an overlap at two lengths
    (15 s / 3 s beside 30 s / 2 s is two points, not a grid)."""
    per_length = part.groupby("chunk_s")["overlap_s"].nunique()
    per_overlap = part.groupby("overlap_s")["chunk_s"].nunique()
    return bool(len(part)) and per_length.max() > 1 and per_overlap.max() > 1


def _grid(part: pd.DataFrame, column: str, scale: float) -> tuple[np.ndarray, list, list]:
    lengths, overlaps = sorted(part["chunk_s"].unique()), sorted(part["overlap_s"].unique())
    grid = np.full((len(lengths), len(overlaps)), np.nan)
    for row in part.itertuples():
        value = getattr(row, column)
        if not pd.isna(value):
            grid[lengths.index(row.chunk_s), overlaps.index(row.overlap_s)] = scale * value
    return grid, lengths, overlaps


def _heatmaps(table: pd.DataFrame, cells: pd.DataFrame):
    """Per provider × strategy two heatmaps: WER with the unchunked WER as a bottom row on the
    same colour scale, and the errors near cuts beside it."""
    providers = list(dict.fromkeys(cells["provider"]))
    strategies = list(dict.fromkeys(zip(cells["merge"], cells["planner"])))
    vmax = PERCENT * max(float(table["wer"].max()), 1e-9)
    emax = max(float(cells["boundary_errors"].fillna(0).max()), 1.0)
    fig = new_figure(5.6 * len(strategies) + 1.6, 3.0 * len(providers) + 0.8)
    axes = fig.subplots(len(providers), 2 * len(strategies), squeeze=False)
    wer_image = err_image = None
    for i, provider in enumerate(providers):
        base = PERCENT * _baseline(table, provider)
        for j, (merge, planner) in enumerate(strategies):
            ax, bx = axes[i][2 * j], axes[i][2 * j + 1]
            part = cells[
                (cells["provider"] == provider)
                & (cells["merge"] == merge)
                & (cells["planner"] == planner)
            ]
            if part.empty:
                ax.set_axis_off()
                bx.set_axis_off()
                continue
            grid, lengths, overlaps = _grid(part, "wer", PERCENT)
            shown = np.vstack([np.full((1, len(overlaps)), base), grid])
            wer_image = ax.imshow(
                shown, cmap="viridis_r", vmin=0, vmax=vmax, aspect="auto", origin="lower"
            )
            ax.axhline(0.5, color="white", lw=3)
            ax.text(
                (len(overlaps) - 1) / 2,
                0,
                "–" if np.isnan(base) else f"unchunked {base:.1f} %",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if base > 0.6 * vmax else "black",
            )
            files = part.set_index(["chunk_s", "overlap_s"])["files"]
            for (r, c), value in np.ndenumerate(grid):
                n = files.get((lengths[r], overlaps[c]), 0)
                text = "not run" if np.isnan(value) else value_text(value / PERCENT, n)
                dark = not np.isnan(value) and value > 0.6 * vmax
                ax.text(
                    c,
                    r + 1,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
            errors, _, _ = _grid(part, "boundary_errors", 1.0)
            err_image = bx.imshow(
                errors, cmap="Reds", vmin=0, vmax=emax, aspect="auto", origin="lower"
            )
            for (r, c), value in np.ndenumerate(errors):
                text = "–" if np.isnan(value) else f"{value:.0f}"
                bx.text(
                    c,
                    r,
                    text,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > 0.6 * emax else "black",
                )
            ticks = [f"{o:g}" for o in overlaps]
            ax.set_xticks(range(len(overlaps)), ticks)
            bx.set_xticks(range(len(overlaps)), ticks)
            ax.set_yticks(range(len(lengths) + 1), ["none", *(f"{v:g}" for v in lengths)])
            bx.set_yticks(range(len(lengths)), [f"{v:g}" for v in lengths])
            ax.set_xlabel("overlap (s)")
            bx.set_xlabel("overlap (s)")
            ax.set_ylabel("chunk length (s)")
            ax.set_title(f"{provider} · {_strategy(merge, planner)}\nWER", fontsize=9)
            bx.set_title("errors near cuts (count)", fontsize=9)
    if wer_image is not None:
        fig.colorbar(
            wer_image, ax=axes[:, 0::2], label="WER (%), pooled", shrink=0.6, location="bottom"
        )
        fig.colorbar(
            err_image, ax=axes[:, 1::2], label="errors near cuts", shrink=0.6, location="bottom"
        )
    fig.suptitle(
        "WER by chunk length × overlap (conditions pooled; bottom row: unchunked, same scale) "
        "beside the errors near cuts",
        fontsize=10,
    )
    return fig


def _lines(table: pd.DataFrame, cells: pd.DataFrame):
    """A column per provider: WER against chunk length above (a labelled line per merge and
    overlap, the unchunked WER dashed), the errors near cuts below, on the same series."""
    providers = list(dict.fromkeys(cells["provider"]))
    fig = new_figure(4.6 * len(providers) + 1.0, 6.2)
    axes = fig.subplots(2, len(providers), squeeze=False, sharex="col")
    for j, provider in enumerate(providers):
        ax, bx = axes[0][j], axes[1][j]
        part = cells[cells["provider"] == provider]
        keys = list(dict.fromkeys(zip(part["merge"], part["planner"], part["overlap_s"])))
        names = {
            k: f"{_strategy(k[0], k[1]).removeprefix('merge ')}, {k[2]:g} s overlap" for k in keys
        }
        style = series_styles(names.values())
        labels, error_labels = [], []
        for key in keys:
            merge, planner, overlap = key
            line = part[
                (part["merge"] == merge)
                & (part["planner"] == planner)
                & (part["overlap_s"] == overlap)
            ].sort_values("chunk_s")
            colour, marker = style[names[key]]
            x, y = line["chunk_s"].to_numpy(float), PERCENT * line["wer"].to_numpy(float)
            ax.plot(x, y, marker=marker, color=colour, ms=7, label=names[key])
            last = line.iloc[-1]
            text = f"{names[key]}: {value_text(last['wer'], last['files'])}"
            labels.append((x[-1], y[-1], text, colour))
            errors = line["boundary_errors"].astype(float).to_numpy()
            if not np.isnan(errors).all():
                bx.plot(x, errors, marker=marker, color=colour, ms=7, label=names[key])
                error_labels.append((x[-1], errors[-1], f"{errors[-1]:.0f}", colour))
        base = PERCENT * _baseline(table, provider)
        if not np.isnan(base):
            ax.axhline(base, color="grey", ls="--", lw=1.2)
            labels.append((ax.get_xlim()[0], base, f"unchunked: {base:.1f} %", "grey"))
        ax.set_ylim(0, max(ax.get_ylim()[1], 1.0) * 1.15)
        ax.set_xlim(ax.get_xlim()[0], ax.get_xlim()[1] + 0.6 * (np.ptp(ax.get_xlim()) or 10))
        direct_labels(ax, labels)
        ax.set_title(provider, fontsize=10)
        ax.set_ylabel("WER (%), pooled")
        ax.grid(alpha=0.3)
        bx.set_ylim(bottom=0)
        direct_labels(bx, error_labels)
        bx.set_xticks(sorted(part["chunk_s"].unique()))
        bx.set_xlabel("chunk length (s)")
        bx.set_ylabel("errors near cuts (count)")
        bx.grid(alpha=0.3)
    fig.suptitle("WER by chunk length (conditions pooled) and the errors near cuts", fontsize=10)
    return fig
