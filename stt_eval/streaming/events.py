"""What a stream is made of: each message a streaming recogniser sent, stamped with when it
arrived on the stream's audio clock, and the timeline those messages form.

Times are on the *audio clock*: seconds of audio the stream had been fed (at its pace) when the
message arrived, so a latency means the same at 1x and at 10x pace. A timeline is what the cache
keeps for a streaming cell; every streaming metric is a pure function of it and the reference.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from stt_eval.types import Word

KINDS = ("partial", "final", "reconnect", "error", "closed")
"""``partial``: text that may still change; ``final``: text that will not; ``reconnect``: the
client opened a new connection mid-stream (``detail`` says why); ``error`` / ``closed``: how the
stream ended, with the close code or error in ``detail``."""


@dataclass(frozen=True)
class StreamEvent:
    """One message: its kind, receipt time on the audio clock, and the text and words it held.

    ``start_s``/``end_s`` are the audio span the message covers when the provider says so.
    """

    kind: str
    at_s: float
    text: str = ""
    words: tuple[Word, ...] = ()
    start_s: float | None = None
    end_s: float | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"stream event kind {self.kind!r} is not one of {KINDS}")


@dataclass(frozen=True)
class Timeline:
    """Every message of one stream in receipt order, the audio seconds sent, and how it was
    made (``simulated`` when a batch engine was driven incrementally rather than streaming)."""

    events: tuple[StreamEvent, ...]
    audio_s: float
    simulated: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def finals(self) -> tuple[StreamEvent, ...]:
        return tuple(e for e in self.events if e.kind == "final")

    @property
    def partials(self) -> tuple[StreamEvent, ...]:
        return tuple(e for e in self.events if e.kind == "partial")

    @property
    def text(self) -> str:
        """The stream's transcript: its finals joined in order."""
        return " ".join(e.text.strip() for e in self.finals if e.text.strip())

    def to_json(self) -> dict[str, Any]:
        return {
            "events": [asdict(e) for e in self.events],
            "audio_s": self.audio_s,
            "simulated": self.simulated,
            "meta": dict(self.meta),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Timeline:
        events = tuple(
            StreamEvent(**{**e, "words": tuple(Word(**w) for w in e.get("words", ()))})
            for e in data["events"]
        )
        return cls(events, float(data["audio_s"]), bool(data["simulated"]), data.get("meta", {}))


class AudioClock:
    """Seconds of audio a stream has been fed: wall time since start times the pace.

    ``pace=None`` ("fast") has no wall-clock link; the feeder advances it by each frame's
    duration (:meth:`advance`) so receipt times become audio fed plus nothing.
    """

    def __init__(self, pace: float | None) -> None:
        self.pace = pace
        self._t0 = time.monotonic()
        self._fed_s = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._fed_s = 0.0

    def advance(self, seconds: float) -> None:
        self._fed_s += seconds

    def now_s(self) -> float:
        if self.pace is None:
            return self._fed_s
        return (time.monotonic() - self._t0) * self.pace


async def paced_frames(
    pcm16: bytes, sample_rate: int, frame_ms: int, clock: AudioClock
) -> AsyncIterator[bytes]:
    """``pcm16`` (mono, 16-bit little-endian) cut into ``frame_ms`` frames, each yielded when the
    audio clock reaches its start: real time times the pace, or at once when pace is fast."""
    step = int(sample_rate * frame_ms / 1000) * 2
    clock.start()
    for i, begin in enumerate(range(0, len(pcm16), step)):
        frame = pcm16[begin : begin + step]
        if clock.pace is not None:
            due = i * frame_ms / 1000
            wait = (due - clock.now_s()) / clock.pace
            if wait > 0:
                await asyncio.sleep(wait)
        else:
            clock.advance(len(frame) / 2 / sample_rate)
        yield frame


@runtime_checkable
class StreamingProvider(Protocol):
    """Turns paced frames of normalized audio (mono 16-bit PCM at ``sample_rate``) into a
    Timeline. Remote providers resample to their documented rate themselves."""

    name: str

    async def stream(
        self,
        frames: AsyncIterator[bytes],
        sample_rate: int,
        clock: AudioClock,
        options: Mapping[str, Any] | None = None,
    ) -> Timeline: ...

    def cache_identity(self) -> Mapping[str, Any]:
        """Everything about this provider that changes its output (model, version, options)."""
        ...
