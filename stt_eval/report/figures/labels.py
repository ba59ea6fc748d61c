"""How figures name what they draw: a condition as a reader says it (``white noise 10 dB``), its
category and reading order — read through the condition registry from the recorded label,
never guessed from text, and without opening the files it names — and the one setting a figure
about the channel draws."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from stt_eval.conditions.errors import ConditionError
from stt_eval.conditions.spec import ConditionSpec, parse_chain
from stt_eval.report.systems import setting_columns, setting_label

CATEGORIES = ("clean", "noise", "telephony", "codec", "other")
"""What a condition does to the channel, as the figures group it (its strongest step wins)."""


@lru_cache(maxsize=256)
def steps(condition: str) -> tuple[ConditionSpec, ...] | None:
    """The chain a ``condition`` column value names, or None when it is not a registered one;
    a noise file it names need not exist here (the run may have been made elsewhere)."""
    try:
        return parse_chain(condition, check_files=False)
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


def one_setting(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows of one setting (unchunked mix when the run has it, else its first) and, when
    the run has several, a title suffix saying which: a figure about the channel compares
    conditions, not settings."""
    columns = setting_columns(frame)
    settings = list(dict.fromkeys(zip(*(frame[c] for c in columns))))
    if len(settings) < 2:
        return frame, ""
    chosen = next((s for s in settings if s[0] == "none" and s[-1] != "split"), settings[0])
    keep = (frame[columns] == pd.Series(chosen, index=columns)).all(axis=1)
    return frame[keep], f" — {setting_label(*chosen)} audio"
