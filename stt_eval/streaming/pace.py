"""How fast a streaming cell feeds its audio, and in what frames: the ``pace`` and ``frame_ms``
settings of an experiment, spelled one way in rows.

- ``"realtime"``: 1x, what remote providers require (AssemblyAI closes on faster audio;
  Deepgram allows up to 1.25x);
- a number N: N times real time (local engines, loopback servers);
- ``"fast"``: as fast as the engine takes it; local engines' receipt times then include their
  compute time (:mod:`stt_eval.streaming.local`).
"""

from __future__ import annotations

from typing import Any

PACES = ("realtime", "fast")
DEFAULT_PACE = "realtime"
DEFAULT_FRAME_MS = 20
"""pipecat's stt-benchmark frame: 20 ms of 16 kHz 16-bit PCM."""


def canonical_pace(value: Any) -> str:
    """``"realtime"``, ``"fast"`` or ``"<N>x"``; anything else is a ValueError saying what is.

    >>> canonical_pace(10), canonical_pace("2.5x"), canonical_pace("realtime")
    ('10x', '2.5x', 'realtime')
    """
    if isinstance(value, str) and value in PACES:
        return value
    text = str(value).removesuffix("x") if not isinstance(value, bool) else ""
    try:
        factor = float(text)
    except ValueError:
        factor = 0.0
    if not factor > 0 or factor != factor or factor == float("inf"):
        raise ValueError(
            f'pace {value!r} is not "realtime", "fast" or a positive number (times real time)'
        )
    return "realtime" if factor == 1 else f"{factor:g}x"


def pace_factor(pace: str) -> float | None:
    """The audio clock's pace (times real time) of a canonical pace; None for ``"fast"``."""
    if pace == "fast":
        return None
    return 1.0 if pace == "realtime" else float(pace.removesuffix("x"))
