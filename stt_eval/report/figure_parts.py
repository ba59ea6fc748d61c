"""What the figures share: the :class:`Plot` record, what a condition string is made of (read
through the condition registry, never guessed from text), one colour per provider, systems
that keep chunk settings apart, and the Pareto frontier."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from matplotlib.figure import Figure

from stt_eval.conditions import ConditionError, ConditionSpec, parse_chain

CATEGORIES = ("clean", "noise", "telephony", "codec", "other")
"""What a condition does to the channel, as the figures group it (its strongest step wins)."""
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f")
KIND_MARKERS = {"white": "o", "pink": "s", "brown": "D", "babble": "^", "file": "v"}
KIND_LINES = {"white": "-", "pink": "--", "brown": "-.", "babble": ":", "file": (0, (1, 3))}
PERCENT = 100.0


@dataclass(frozen=True)
class Plot:
    """One figure of a run and exactly the values it draws (rates read from pooled counts)."""

    name: str  # slug, e.g. "wer_vs_snr"
    title: str  # human title
    figure: Figure
    data: pd.DataFrame


@lru_cache(maxsize=256)
def steps(condition: str) -> tuple[ConditionSpec, ...] | None:
    """The chain a ``condition`` column value names, or None when it is not a registered one."""
    try:
        return parse_chain(condition)
    except ConditionError:
        return None


def noise_step(condition: str) -> ConditionSpec | None:
    """The last noise step of a condition (the one whose SNR a row measures), if any."""
    chain = steps(condition) or ()
    return next((s for s in reversed(chain) if s.name == "noise"), None)


def category(condition: str) -> str:
    """clean, telephony, codec, noise or other (see :data:`CATEGORIES`)."""
    chain = steps(condition)
    if chain is None:
        return "other"
    names = {s.name for s in chain}
    for name in ("telephony", "codec", "noise"):
        if name in names:
            return name
    return "clean" if not names else "other"


def in_reading_order(conditions) -> list[str]:
    """Distinct conditions as a reader scans them: clean, noise (per kind, SNR falling),
    telephony, codecs, the rest; rows arrive in the order files finished, which says nothing."""

    def key(condition: str) -> tuple:
        noise = noise_step(condition)
        snr = -float(noise.get("snr_db")) if noise else 0.0  # type: ignore[arg-type]
        return CATEGORIES.index(category(condition)), series_label(condition), snr

    return sorted(dict.fromkeys(conditions), key=key)


def _step_label(spec: ConditionSpec) -> str:
    p = dict(spec.params)
    if spec.name == "noise":
        return f"{p['kind']} noise {p['snr_db']:g} dB"
    if spec.name == "telephony":
        codec = {"ulaw": "µ-law", "alaw": "A-law"}[str(p["codec"])]
        loss = float(p.get("loss") or 0.0)  # type: ignore[arg-type]
        return f"telephony {codec}" + (f", {loss:.0%} loss" if loss else "")
    if spec.name == "codec":
        return f"{p['format']} {p['bitrate']}"
    return str(spec)


def short_label(condition: str) -> str:
    """A condition as a reader says it: ``white noise 10 dB``, ``telephony µ-law``."""
    chain = steps(condition)
    if chain is None:
        return condition
    return " + ".join(_step_label(s) for s in chain) if chain else "clean"


def series_label(condition: str) -> str:
    """A noise condition without its SNR: the series it belongs to in WER-vs-SNR."""
    chain = steps(condition) or ()
    noise = noise_step(condition)
    rest = [_step_label(s) for s in chain if s is not noise]
    kind = f"{noise.get('kind')} noise" if noise else "no noise"
    return " + ".join([kind, *rest])


def _setting(chunking: str, merge: str) -> str:
    return "unchunked" if chunking == "none" else f"{chunking} {merge}"


def systems(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``provider`` naming the system: the provider, plus its chunk setting and
    merge when a run has several, so no figure pools different settings into one rate."""
    if frame.empty or frame[["chunking", "merge"]].drop_duplicates().shape[0] < 2:
        return frame
    setting = [_setting(c, m) for c, m in zip(frame["chunking"], frame["merge"])]
    return frame.assign(provider=frame["provider"] + " · " + pd.Series(setting, frame.index))


def one_setting(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows of one chunk setting (unchunked when the run has it, else its first) and, when
    the run has several, a title suffix saying which: a figure about the channel compares
    conditions, not settings."""
    settings = list(dict.fromkeys(zip(frame["chunking"], frame["merge"])))
    if len(settings) < 2:
        return frame, ""
    chunking, merge = next((s for s in settings if s[0] == "none"), settings[0])
    keep = (frame["chunking"] == chunking) & (frame["merge"] == merge)
    return frame[keep], f" — {_setting(chunking, merge)} audio"


def colours(names) -> dict[str, str]:
    """One colour per name, in order of first appearance."""
    unique = list(dict.fromkeys(names))
    return {n: COLOURS[i % len(COLOURS)] for i, n in enumerate(unique)}


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


def new_figure(width: float = 9.0, height: float = 5.0) -> Figure:
    """A figure drawn without pyplot (safe in servers and threads), laid out to fit its legend."""
    return Figure(figsize=(width, height), layout="constrained")


def legend_outside(ax, **kw) -> None:
    """A legend right of the axes, so it never covers data."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, **kw)
