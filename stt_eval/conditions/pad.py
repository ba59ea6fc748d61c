"""``pad``: add a stretch of silence or white noise before or after the recording — the
non-speech probe for hallucinations (words a model writes where nobody spoke).

Unlike every other step it changes the clip's length. The pipeline moves the reference times
onto the padded timeline (a ``where=start`` pad of 10 s moves every reference word, turn and
segment 10 s later, :func:`~stt_eval.conditions.spec.padding`), so word times and DER stay
comparable, and the words that land in the padding are the ones hypothesised where nobody
spoke. The noise
is white, at ``snr_db`` below the active-speech power of the step's input (the level
``noise(kind=white, snr_db=…)`` would add).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from stt_eval.audio.load import TARGET_RATE
from stt_eval.conditions.errors import ConditionError
from stt_eval.conditions.noise import active_speech_power
from stt_eval.conditions.step import Value, _NoiseResult, _StepContext


def _pad(
    x: np.ndarray, params: Mapping[str, Value], ctx: _StepContext
) -> np.ndarray | _NoiseResult:
    """`x` with ``silence_s`` of silence or noise before (``where=start``) or after it; with
    noise, the SNR achieved (speech power over the padding's) is the row's SNR."""
    n = round(float(params["silence_s"]) * TARGET_RATE)
    stretch = np.zeros(n, dtype=np.float64)
    parts = (stretch, x) if params["where"] == "start" else (x, stretch)
    if params["kind"] == "noise":
        power = active_speech_power(x, TARGET_RATE)
        if power == 0.0:
            raise ConditionError(
                "pad(kind=noise): the clip has no active speech to set the noise level from; "
                "use pad(kind=silence)"
            )
        level = math.sqrt(power / 10 ** (float(params["snr_db"]) / 10))
        stretch = np.clip(np.random.default_rng(ctx.seed).standard_normal(n) * level, -1.0, 1.0)
        parts = (stretch, x) if params["where"] == "start" else (x, stretch)
        snr = 10 * math.log10(power / float(np.mean(stretch * stretch)))
        return _NoiseResult(np.concatenate(parts), snr)
    return np.concatenate(parts)
