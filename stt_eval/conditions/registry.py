"""Parameter definitions and `REGISTRY`: every built-in condition by name, with its function.

Imports the step functions (noise, channels); nothing below it imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from stt_eval.conditions.crosstalk import STEREO_CALL, stereo_call_step
from stt_eval.conditions.errors import ConditionError
from stt_eval.conditions.noise import _apply_noise, _check_noise, _check_noise_file
from stt_eval.conditions.pad import _pad
from stt_eval.conditions.step import Value, _clean, _NoiseResult, _StepContext
from stt_eval.conditions.transmission import (
    FFMPEG_CODECS,
    _codec,
    _gain,
    _resample_step,
    _telephony,
)

__all__ = ["REGISTRY", "ConditionDef", "ParamDef"]

# --- parameter definitions -------------------------------------------------------------------


@dataclass(frozen=True)
class ParamDef:
    """One parameter of a condition: how to canonicalize a raw value and what is allowed."""

    name: str
    convert: Callable[[object], Value]
    allowed: str
    default: Value | None = None
    required: bool = False


def _number(lo: float, hi: float) -> Callable[[object], float]:
    """Converter to a finite float in [lo, hi] (-0.0 becomes 0.0 so formatting is canonical)."""

    def convert(raw: object) -> float:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw)  # raises ValueError / TypeError for non-numbers
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError
        return value + 0.0

    return convert


def _integer(lo: int, hi: int) -> Callable[[object], int]:
    """Converter to an int in [lo, hi]; accepts '8000', 8000 and 8000.0 but not 8000.5."""

    def convert(raw: object) -> int:
        if isinstance(raw, bool):
            raise ValueError
        value = float(raw)
        if not value.is_integer() or not lo <= value <= hi:
            raise ValueError
        return int(value)

    return convert


def _choice(*options: str) -> Callable[[object], str]:
    """Converter to one of a fixed set of lowercase words."""

    def convert(raw: object) -> str:
        value = str(raw).strip().lower()
        if value not in options:
            raise ValueError
        return value

    return convert


def _bitrate(raw: object) -> str:
    """Converter to a canonical 'Nk' bitrate between 6k and 320k ('32k', '32000', 32000 all ok)."""
    text = str(raw).strip().lower().removesuffix("bps").removesuffix("b")
    if text.endswith("k"):
        kbps = float(text[:-1])
    else:
        bps = float(text)
        kbps = bps / 1000 if bps >= 1000 else bps
    if not math.isfinite(kbps) or not kbps.is_integer() or not 6 <= kbps <= 320:
        raise ValueError
    return f"{int(kbps)}k"


def _path(raw: object) -> str:
    """Converter to a non-empty path string (existence is checked by the noise validator)."""
    text = str(raw).strip()
    if not text:
        raise ValueError
    return str(Path(text))


@dataclass(frozen=True)
class ConditionDef:
    """A registered condition: its parameters, its function, a whole-spec check of the text
    and one of what the spec needs from this machine (files), which a report skips."""

    name: str
    params: tuple[ParamDef, ...]
    apply: Callable[[np.ndarray, Mapping[str, Value], _StepContext], np.ndarray | _NoiseResult]
    check: Callable[[Mapping[str, Value]], None] | None = None
    check_files: Callable[[Mapping[str, Value]], None] | None = None
    summary: str = ""

    def param(self, key: str) -> ParamDef | None:
        return next((p for p in self.params if p.name == key), None)


# --- the registry ----------------------------------------------------------------------------

REGISTRY: Mapping[str, ConditionDef] = MappingProxyType(
    {
        "clean": ConditionDef("clean", (), _clean, summary="no degradation"),
        "noise": ConditionDef(
            "noise",
            (
                ParamDef(
                    "snr_db", _number(-20.0, 60.0), "a number of dB in -20..60", required=True
                ),
                ParamDef(
                    "kind",
                    _choice("white", "pink", "brown", "babble", "file"),
                    "one of: white, pink, brown, babble, file",
                    default="white",
                ),
                ParamDef("path", _path, "a path to a noise audio file (with kind=file)"),
            ),
            _apply_noise,
            check=_check_noise,
            check_files=_check_noise_file,
            summary="additive noise at an SNR over active speech",
        ),
        "telephony": ConditionDef(
            "telephony",
            (
                ParamDef("codec", _choice("ulaw", "alaw"), "one of: alaw, ulaw", default="ulaw"),
                ParamDef("loss", _number(0.0, 0.99), "a packet-loss rate in 0..0.99", default=0.0),
            ),
            _telephony,
            summary="300-3400 Hz, 8 kHz G.711, optional 20 ms packet loss",
        ),
        "codec": ConditionDef(
            "codec",
            (
                ParamDef("format", _choice(*FFMPEG_CODECS), "one of: mp3, opus", default="mp3"),
                ParamDef("bitrate", _bitrate, "a bitrate in 6k..320k, e.g. 32k", default="32k"),
            ),
            _codec,
            summary="lossy codec round trip through ffmpeg",
        ),
        STEREO_CALL: ConditionDef(
            STEREO_CALL,
            (
                ParamDef(
                    "leakage_db", _number(-80.0, 0.0), "a number of dB in -80..0", default=-20.0
                ),
                ParamDef("codec", _choice("ulaw", "alaw"), "one of: alaw, ulaw", default="ulaw"),
            ),
            stereo_call_step,
            summary="each channel hears the others at leakage_db, then its own G.711 line",
        ),
        "gain": ConditionDef(
            "gain",
            (ParamDef("db", _number(-60.0, 60.0), "a number of dB in -60..60", required=True),),
            _gain,
            summary="level change, clipped at ±1",
        ),
        "pad": ConditionDef(
            "pad",
            (
                ParamDef("silence_s", _number(0.1, 600.0), "seconds in 0.1..600", default=10.0),
                ParamDef(
                    "kind", _choice("silence", "noise"), "one of: noise, silence", default="silence"
                ),
                ParamDef("where", _choice("start", "end"), "one of: end, start", default="end"),
                ParamDef("snr_db", _number(-20.0, 60.0), "a number of dB in -20..60", default=10.0),
            ),
            _pad,
            summary="silence or white noise (at snr_db under the speech) before or after it",
        ),
        "resample": ConditionDef(
            "resample",
            (
                ParamDef(
                    "rate", _integer(1000, 16000), "an integer rate in 1000..16000 Hz", default=8000
                ),
            ),
            _resample_step,
            summary="down to rate and back to 16 kHz",
        ),
    }
)
"""Every built-in condition by name."""


def _lookup(name: str) -> ConditionDef:
    if name not in REGISTRY:
        raise ConditionError(
            f"unknown condition {name!r}; valid conditions: {', '.join(sorted(REGISTRY))}"
        )
    return REGISTRY[name]


def describe_conditions() -> dict[str, dict[str, Any]]:
    """Every registered condition: what it does and its parameters (allowed values, default)."""
    return {
        name: {
            "summary": c.summary,
            "params": {
                p.name: {"allowed": p.allowed, "default": p.default, "required": p.required}
                for p in c.params
            },
        }
        for name, c in REGISTRY.items()
    }
