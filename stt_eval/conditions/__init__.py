"""Audio degradations ("conditions") as data: parse, validate, format and apply them.

A condition is a name plus canonical parameters, written `noise(snr_db=10, kind=babble)` and
chained with `+`: `telephony(codec=ulaw) + noise(snr_db=5, kind=pink)`. Chains are recorded with
every result, so `parse_chain(format_chain(c)) == c` and every step is deterministic for a seed.

Built in (see `REGISTRY`):

- `clean` — identity (the empty chain; `parse_chain` drops it).
- `noise(snr_db, kind=white|pink|brown|babble|file, path=...)` — additive noise at an SNR measured
  on *active speech* (see `active_speech_power`), not on the whole clip with its silences.
- `telephony(codec=ulaw|alaw, loss=0.0)` — 300–3400 Hz band-limit, 8 kHz, G.711, packet loss.
- `codec(format=mp3|opus, bitrate=32k)` — a lossy round trip through the bundled ffmpeg.
- `gain(db)` — level change with clipping at ±1.
- `resample(rate=8000)` — down to `rate` and back up (loses everything above rate/2).
- `stereo_call(leakage_db=-20, codec=ulaw)` — each channel hears the others at `leakage_db`, then
  a G.711 line per channel (see :mod:`stt_eval.conditions.crosstalk`).

>>> chain = parse_chain("telephony(codec=ulaw) + noise(snr_db=5, kind=pink)")
>>> format_chain(chain)
'telephony(codec=ulaw, loss=0) + noise(kind=pink, snr_db=5)'
>>> parse_chain("clean")
()
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stt_eval.audio.load import TARGET_RATE, AudioClip, resample, to_int16
from stt_eval.conditions.errors import ConditionError
from stt_eval.conditions.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from stt_eval.conditions.noise import active_speech_mask, active_speech_power
from stt_eval.conditions.registry import REGISTRY, ConditionDef, ParamDef
from stt_eval.conditions.spec import (
    Chain,
    ConditionSpec,
    format_chain,
    format_spec,
    parse_chain,
)
from stt_eval.conditions.step import _NoiseResult, _StepContext

__all__ = [
    "Chain",
    "ConditionDef",
    "ConditionError",
    "ConditionSpec",
    "Conditioned",
    "ParamDef",
    "REGISTRY",
    "active_speech_mask",
    "active_speech_power",
    "alaw_decode",
    "alaw_encode",
    "apply_chain",
    "derive_seed",
    "format_chain",
    "format_spec",
    "parse_chain",
    "ulaw_decode",
    "ulaw_encode",
]

# --- seeds -----------------------------------------------------------------------------------


def derive_seed(seed: int, *keys: str) -> int:
    """A 63-bit seed from a base seed and string keys, stable across processes and machines.

    Uses SHA-256 (not `hash()`, which is salted per process) so the runner can give each
    sample × condition its own reproducible seed.

    >>> derive_seed(0, "a") == derive_seed(0, "a") != derive_seed(0, "b")
    True
    """
    payload = "\x1f".join([str(int(seed)), *keys]).encode("utf-8")
    return int.from_bytes(hashlib.sha256(payload).digest()[:8], "big") >> 1


# --- applying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conditioned:
    """A conditioned clip (16 kHz mono, 16-bit grid) and the achieved SNR of its last noise step.

    `snr_db` is measured (active-speech power of that step's input over the power of what the
    step added, clipping included), or None when the chain adds no noise.
    """

    clip: AudioClip
    snr_db: float | None


def apply_chain(
    clip: AudioClip,
    chain: Chain,
    seed: int,
    *,
    babble_sources: Sequence[AudioClip] = (),
) -> Conditioned:
    """Apply each condition left to right; the output is what an engine gets (16 kHz mono).

    Step i draws its randomness from `derive_seed(seed, str(i), name)`, so the same seed gives
    bit-identical output and changing only `snr_db` keeps the same noise waveform.
    `babble_sources` are *other* samples' speech for `noise(kind=babble)`.

    Raises ConditionError when a step cannot run on this audio: babble without other sources
    (or with the sample itself among them), a noise step on a clip with no active speech, or an
    ffmpeg failure in `codec`.
    """
    x = resample(clip.samples, clip.sample_rate, TARGET_RATE).astype(np.float64)
    original = x.astype(np.float32)
    snr: float | None = None
    for i, spec in enumerate(chain):
        if not isinstance(spec, ConditionSpec):
            raise ConditionError(
                f"chain step {i} is {spec!r}, not a ConditionSpec; use parse_chain"
            )
        ctx = _StepContext(derive_seed(seed, str(i), spec.name), babble_sources, original)
        result = REGISTRY[spec.name].apply(x, dict(spec.params), ctx)
        if isinstance(result, _NoiseResult):
            x, snr = result.samples, result.snr_db
        else:
            x = result
    out = to_int16(x.astype(np.float32)).astype(np.float32) / 32768.0
    return Conditioned(AudioClip(out, TARGET_RATE), snr)
