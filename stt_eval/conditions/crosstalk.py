"""A stereo call from two (or more) speaker channels: each channel hears the others leaking in
at ``leakage_db`` (a headset picking up the other party, line echo), then a phone line.

``stereo_call(leakage_db=-20, codec=ulaw)`` works on both channel modes:

- ``split``: :func:`leak` mixes every other channel into each at ``leakage_db`` before the
  chain runs, then each channel goes through its own G.711 line (:func:`stereo_call_step`);
- ``mix``: the downmix already holds every speaker (leakage would only raise its level by
  ``1 + 10^(leakage_db/20)``, e.g. +0.8 dB at -20 dB), so only the phone line applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from stt_eval.conditions.step import Value, _StepContext
from stt_eval.conditions.transmission import _telephony

STEREO_CALL = "stereo_call"
"""The condition's registry name."""


def stereo_call_step(x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext) -> np.ndarray:
    """One channel's phone line (the leakage between channels is :func:`leak`'s job)."""
    return _telephony(x, {"codec": params["codec"], "loss": 0.0}, ctx)


def leak(channels: Sequence[np.ndarray], db: float) -> list[np.ndarray]:
    """Each channel plus the sum of the others at ``db`` (relative amplitude), clipped to ±1.

    >>> [c.tolist() for c in leak([np.array([1.0, 0.0]), np.array([0.0, 1.0])], -20)]
    [[1.0, 0.1], [0.1, 1.0]]
    """
    gain = 10.0 ** (db / 20.0)
    total = np.sum(channels, axis=0)
    return [np.clip(c + gain * (total - c), -1.0, 1.0) for c in channels]
