"""The contract between the registry and the step functions: context in, samples (or noise) out.

Every condition is a function `(samples, params, ctx) -> samples | _NoiseResult` on 16 kHz
float64 audio; this module holds what they share (and the identity step, `clean`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from stt_eval.audio.load import AudioClip

__all__ = ["Value"]

Value = str | float | int


@dataclass(frozen=True)
class _StepContext:
    """What one step of a chain may use besides its input: its RNG seed and babble sources."""

    seed: int
    babble_sources: Sequence[AudioClip] = ()
    original: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _NoiseResult:
    """Noisy samples plus the achieved SNR (speech = step input, noise = output − input)."""

    samples: np.ndarray
    snr_db: float


def _clean(x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext) -> np.ndarray:
    """Identity."""
    return x


def _fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Cut or zero-pad to exactly `n` samples so conditions keep the original timeline."""
    if len(y) >= n:
        return y[:n]
    return np.concatenate([y, np.zeros(n - len(y), dtype=y.dtype)])
