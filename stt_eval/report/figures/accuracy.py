"""Accuracy figures: pooled WER by condition, against the measured SNR, clean beside telephony
and codecs, and by a metadata column — each with its per-file bootstrap interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

from stt_eval.report.analysis.intervals import with_intervals
from stt_eval.report.figures.labels import (
    category,
    in_reading_order,
    noise_step,
    one_setting,
    series_label,
    short_label,
)
from stt_eval.report.figures.style import (
    COLOURS,
    HATCHES,
    PERCENT,
    Plot,
    colours,
    legend_outside,
    new_figure,
    series_styles,
    value_text,
    whisker,
)
from stt_eval.report.systems import systems
from stt_eval.report.tables import TOTAL, pooled

KIND_MARKERS = {"white": "o", "pink": "s", "brown": "D", "babble": "^", "file": "v"}
KIND_LINES = {"white": "-", "pink": "--", "brown": "-.", "babble": ":", "file": (0, (1, 3))}
"""How WER vs SNR draws each noise kind: its marker and its line."""

BY = ["provider", "condition"]


def _ok(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["status"] == "ok"] if len(frame) else frame


def _bars(ax, table: pd.DataFrame, groups: list[str], group_col: str, labels: list[str]) -> None:
    """Grouped bars: one group per value of ``group_col``, one bar per provider (a colour and
    hatch no other provider shares), each labelled with its value; whiskers from
    ``wer_low``/``wer_high`` where a bar pools at least 2 files, else ``n=1``."""
    providers = list(dict.fromkeys(table["provider"]))
    style = series_styles(providers)
    width = 0.8 / len(providers)
    for k, provider in enumerate(providers):
        part = table[table["provider"] == provider].set_index(group_col)
        part = part.reindex([g for g in groups if g in part.index])
        x = np.array([groups.index(g) for g in part.index]) + (k - (len(providers) - 1) / 2) * width
        y = (PERCENT * part["wer"]).fillna(0)
        reach = [
            whisker(w, lo, hi, n)
            for w, lo, hi, n in zip(
                part["wer"],
                part.get("wer_low", part["wer"]),
                part.get("wer_high", part["wer"]),
                part["files"],
            )
        ]
        colour, _ = style[provider]
        hatch = HATCHES[providers.index(provider) // len(COLOURS) % len(HATCHES)]
        ax.bar(x, y, width, color=colour, hatch=hatch, edgecolor="white", label=provider)
        low, high = [r[0] for r in reach], [r[1] for r in reach]
        if any(high):
            ax.errorbar(x, y, yerr=[low, high], fmt="none", ecolor="black", capsize=3, lw=1)
        for xx, yy, top, w, n in zip(x, y, high, part["wer"], part["files"]):
            ax.annotate(
                value_text(w, n),
                (xx, yy + top),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                rotation=90 if len(providers) > 2 else 0,
            )
    ax.set_xticks(
        range(len(groups)),
        labels,
        rotation=20 if len(groups) > 3 else 0,
        ha="right" if len(groups) > 3 else "center",
    )
    ax.set_ylabel("WER (%), pooled over files")
    ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.15)
    legend_outside(ax)


PANELS_PER_ROW = 4
"""Small multiples wrap after this many panels."""


def wer_overview(frame: pd.DataFrame) -> Plot | None:
    """Pooled WER of every system (provider at one chunk setting, merge and channel mode) in a
    panel per condition: one labelled row per system, its value written beside its point, the
    95 % per-file bootstrap interval as a whisker where it pools at least 2 files (``n=1``
    otherwise). No legend to decode: 16 settings are 16 named rows."""
    ok = _ok(frame)
    if ok.empty:
        return None
    frame = systems(frame)
    table = with_intervals(pooled(frame, BY, total=False), frame, BY)
    conditions = in_reading_order(table["condition"])
    names = list(dict.fromkeys(table["provider"]))
    style = series_styles(names)
    cols = min(len(conditions), PANELS_PER_ROW)
    rows = -(-len(conditions) // cols)
    label_in = 0.065 * max(len(n) for n in names) + 0.4
    fig = new_figure(label_in + 3.2 * cols, rows * (0.3 * len(names) + 1.0) + 0.7)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True)
    y = np.arange(len(names))[::-1]  # the first system on top
    top = PERCENT * np.nanmax(np.fmax(table["wer"], table["wer_high"]).to_numpy(dtype=float))
    for i, condition in enumerate(conditions):
        ax = axes[i // cols][i % cols]
        part = table[table["condition"] == condition].set_index("provider")
        for k, name in enumerate(names):
            if name not in part.index:
                continue
            row = part.loc[name]
            colour, marker = style[name]
            low, high = whisker(row["wer"], row["wer_low"], row["wer_high"], row["files"])
            x = PERCENT * row["wer"]
            if high or low:
                ax.errorbar([x], [y[k]], xerr=[[low], [high]], fmt="none", ecolor=colour, capsize=3)
            ax.plot([x], [y[k]], ls="none", marker=marker, ms=7, color=colour, label=name)
            ax.annotate(
                value_text(row["wer"], row["files"]),
                (0 if np.isnan(x) else x + high, y[k]),
                xytext=(5, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_title(short_label(condition), fontsize=10)
        ax.set_xlim(0, max(top, 1.0) * 1.45)
        ax.set_ylim(-0.7, len(names) - 0.3)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_yticks(y, names, fontsize=8)
    for ax in axes.ravel()[len(conditions) :]:
        ax.set_axis_off()
    fig.supxlabel(
        "WER (%), pooled over files · whiskers: 95 % interval, files resampled · "
        "n=1: one file, no interval",
        fontsize=9,
    )
    fig.suptitle("WER by system and condition", fontsize=11)
    return Plot("wer_overview", "WER by system and condition", fig, table)


def wer_vs_snr(frame: pd.DataFrame, bands: bool = True) -> Plot | None:
    """Pooled WER against the SNR *measured* on active speech (mean over the files of a
    condition), one series per provider and noise kind; clean as a dashed line per provider;
    one chunk setting (see :func:`one_setting`)."""
    frame, setting = one_setting(frame)
    noisy = [c for c in dict.fromkeys(frame["condition"]) if noise_step(c) is not None]
    if not noisy or _ok(frame)["snr_db"].dropna().empty:
        return None
    keep = frame[frame["condition"].isin([*noisy, "clean"])]
    table = pooled(keep, BY, total=False)
    if bands:
        table = with_intervals(table, keep, BY)
    snr = _ok(keep).groupby(BY, sort=False)["snr_db"].mean().rename("snr_db")
    table = table.merge(snr.reset_index(), on=BY, how="left")
    table["series"] = [series_label(c) if c != "clean" else "clean" for c in table["condition"]]
    table["nominal_snr_db"] = [
        float(s.get("snr_db")) if (s := noise_step(c)) else np.nan for c in table["condition"]
    ]
    table = table[(table["condition"] == "clean") | table["snr_db"].notna()].reset_index(drop=True)
    colour = colours(table["provider"])
    fig = new_figure(9.5, 5)
    ax = fig.add_subplot()
    noise = table[table["condition"] != "clean"]
    # series with fewer points last, so a single-SNR series is drawn on top, never hidden
    order = (
        noise.groupby(["provider", "series"], sort=False)
        .size()
        .sort_values(ascending=False, kind="stable")
    )
    for provider, series in order.index:
        part = noise[(noise["provider"] == provider) & (noise["series"] == series)]
        part = part.sort_values("snr_db")
        kind = str(noise_step(part["condition"].iloc[0]).get("kind"))  # type: ignore[union-attr]
        x, y = part["snr_db"], PERCENT * part["wer"]
        ax.plot(
            x,
            y,
            linestyle=KIND_LINES.get(kind, "-") if len(part) > 1 else "none",
            marker=KIND_MARKERS.get(kind, "o"),
            markersize=7 if len(part) > 1 else 9,
            color=colour[provider],
            label=f"{provider} · {series}",
            zorder=3,
        )
        several = (part["files"] >= 2).to_numpy()  # one file: no interval, said as n=1
        for xx, yy in zip(x[~several], y[~several]):
            ax.annotate("n=1", (xx, yy), xytext=(4, 4), textcoords="offset points", fontsize=7)
        if "wer_low" in part and part["wer_low"].notna().any() and several.any():
            low, high = PERCENT * part["wer_low"], PERCENT * part["wer_high"]
            if len(part) > 1:
                ax.fill_between(
                    x, low, high, where=several, color=colour[provider], alpha=0.12, lw=0
                )
            else:
                ax.errorbar(
                    x,
                    y,
                    yerr=[(y - low).clip(lower=0), (high - y).clip(lower=0)],
                    fmt="none",
                    ecolor=colour[provider],
                    capsize=3,
                    alpha=0.6,
                )
    for row in table[table["condition"] == "clean"].itertuples():
        ax.axhline(
            PERCENT * row.wer,
            color=colour[row.provider],
            ls=(0, (2, 2)),
            lw=1.2,
            label=f"{row.provider} · clean",
        )
    ax.set_xlabel("SNR measured on active speech (dB)")
    ax.set_ylabel("WER (%), pooled over files")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    bands_note = "\nbands: 95 % interval, files resampled" if bands else ""
    ax.set_title(f"WER vs measured SNR{setting}{bands_note}", fontsize=10)
    legend_outside(ax)
    return Plot("wer_vs_snr", "WER vs measured SNR", fig, table)


def channel_wer(frame: pd.DataFrame) -> Plot | None:
    """Pooled WER of clean audio beside each telephony and codec condition the run has (one
    chunk setting, see :func:`one_setting`)."""
    frame, setting = one_setting(frame)
    wanted = [
        c
        for c in dict.fromkeys(frame["condition"])
        if category(c) in ("clean", "telephony", "codec")
    ]
    if not any(category(c) != "clean" for c in wanted):
        return None
    keep = frame[frame["condition"].isin(wanted)]
    table = with_intervals(pooled(keep, BY, total=False), keep, BY)
    table["category"] = table["condition"].map(category)
    conditions = in_reading_order(table["condition"])
    fig = new_figure(8.5, 4.5)
    ax = fig.add_subplot()
    _bars(ax, table, conditions, "condition", [short_label(c) for c in conditions])
    ax.set_title(f"Clean vs telephony and codecs{setting} (whiskers: 95 % interval)")
    return Plot("channel_wer", "Clean vs telephony vs codec", fig, table)


def meta_columns(frame: pd.DataFrame) -> list[str]:
    """Metadata columns that group files: at least two values, one of them shared by files."""
    files = _ok(frame).drop_duplicates("sample_id")
    out = []
    for col in (c for c in frame.columns if c.startswith("meta.")):
        counts = files[col].dropna().astype(str).value_counts()
        if len(counts) >= 2 and counts.max() >= 2:
            out.append(col)
    return out


def wer_by_meta(frame: pd.DataFrame, column: str) -> Plot | None:
    """Pooled WER per provider and value of a metadata column (``meta.<key>`` or ``<key>``),
    conditions pooled, with each provider's TOTAL over all values last; one chunk setting."""
    column = column if column in frame else f"meta.{column}"
    if column not in frame or _ok(frame)[column].dropna().empty:
        return None
    frame, setting = one_setting(frame)
    frame = frame[frame[column].notna()].assign(**{column: frame[column].astype(str)})
    table = pooled(frame, ["provider", column], total=True)
    groups = list(dict.fromkeys(v for v in table[column] if v != TOTAL))
    groups += [TOTAL] if (table[column] == TOTAL).any() else []
    key = column.removeprefix("meta.")
    fig = new_figure(max(6.0, 1.3 * len(groups) + 3), 4.2)
    ax = fig.add_subplot()
    labels = [f"all {key}" if g == TOTAL else f"{key} = {g}" for g in groups]
    _bars(ax, table, groups, column, labels)
    ax.set_title(f"WER by {key} (conditions pooled){setting}")
    return Plot(f"wer_by_{key}", f"WER by {key}", fig, table)
