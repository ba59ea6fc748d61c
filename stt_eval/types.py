"""The records that flow through stt-eval: frozen dataclasses that check their own invariants.

Every error names the offending value and says how to fix it, because these records are built
from user files (manifests, RTTMs) and provider responses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from stt_eval.errors import SttEvalError


class InvalidRecord(SttEvalError, ValueError):
    """A record was built with values that break its invariants."""


def _check_time(name: str, value: float, owner: str) -> None:
    if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        raise InvalidRecord(f"{owner}: {name}={value!r} must be a non-negative number of seconds")


def _check_span(start: float, end: float, owner: str) -> None:
    _check_time("start", start, owner)
    _check_time("end", end, owner)
    if end < start:
        raise InvalidRecord(
            f"{owner}: end={end} is before start={start}; swap them or fix the source"
        )


@dataclass(frozen=True)
class SpeakerTurn:
    """One speaker talking from `start` to `end` seconds (an RTTM row)."""

    speaker: str
    start: float
    end: float

    def __post_init__(self) -> None:
        if not str(self.speaker).strip():
            raise InvalidRecord("SpeakerTurn: speaker label is empty; give every turn a label")
        _check_span(self.start, self.end, f"SpeakerTurn({self.speaker!r})")

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class SpeakerSegment:
    """Reference text said by one speaker between `start` and `end` seconds (an STM row), for
    speaker-attributed WER."""

    speaker: str
    start: float
    end: float
    text: str

    def __post_init__(self) -> None:
        if not str(self.speaker).strip():
            raise InvalidRecord("SpeakerSegment: speaker label is empty; give every segment one")
        _check_span(self.start, self.end, f"SpeakerSegment({self.speaker!r})")


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span in seconds; confidence in [0, 1] when known."""

    text: str
    start: float
    end: float
    confidence: float | None = None
    speaker: str | None = None

    def __post_init__(self) -> None:
        _check_span(self.start, self.end, f"Word({self.text!r})")
        if self.confidence is not None and not (0.0 <= self.confidence <= 1.0):
            raise InvalidRecord(
                f"Word({self.text!r}): confidence={self.confidence} is outside [0, 1]; "
                "rescale the provider's score"
            )

    def shifted(self, offset_s: float) -> Word:
        return replace(self, start=self.start + offset_s, end=self.end + offset_s)


@dataclass(frozen=True)
class Transcript:
    """What a provider returned: the raw text, optional words and speaker turns, and its JSON.

    The text is stored exactly as the provider gave it; normalization happens only when scoring.
    ``warnings`` say what of the answer was left out (e.g. malformed word entries); they reach
    the row's warning.
    """

    text: str
    words: tuple[Word, ...] = ()
    turns: tuple[SpeakerTurn, ...] = ()
    language: str | None = None
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InvalidRecord(
                f"Transcript: text must be a string, got {type(self.text).__name__}"
            )
        object.__setattr__(self, "words", tuple(self.words))
        object.__setattr__(self, "turns", tuple(self.turns))
        object.__setattr__(self, "warnings", tuple(self.warnings))

    def shifted(self, offset_s: float) -> Transcript:
        """The same transcript with every time moved by `offset_s` (chunk → global time)."""
        return replace(
            self,
            words=tuple(w.shifted(offset_s) for w in self.words),
            turns=tuple(
                SpeakerTurn(t.speaker, t.start + offset_s, t.end + offset_s) for t in self.turns
            ),
        )


@dataclass(frozen=True)
class Sample:
    """One labelled recording: audio, reference transcript, optional speaker turns and terms.

    ``turns`` are the reference speaker turns (RTTM, for DER); ``segments`` the
    speaker-attributed reference text (STM segments, for cpWER); ``audio_url`` where a provider
    can fetch the same recording itself (sent instead of the audio when nothing alters it).
    ``channels`` names the speaker on each channel of the audio file, ``tracks`` one file per
    speaker; either makes the sample transcribable by channel (``channel_mode = "split"``).
    ``ref_words`` are reference word times (a CTM, or a forced alignment) for latency and
    word-timing metrics; None when the recording has none.
    """

    id: str
    audio_path: Path
    text: str
    turns: tuple[SpeakerTurn, ...] | None = None
    segments: tuple[SpeakerSegment, ...] | None = None
    audio_url: str | None = None
    language: str = "en"
    terms: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    tracks: tuple[tuple[str, Path], ...] = ()
    ref_words: tuple[Word, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidRecord("Sample: id is empty; give every row a unique id")
        if not isinstance(self.text, str) or not self.text.strip():
            raise InvalidRecord(
                f"Sample {self.id!r}: reference text is empty; add the transcript or drop the row"
            )
        object.__setattr__(self, "audio_path", Path(self.audio_path))
        object.__setattr__(self, "terms", tuple(self.terms))
        for name in ("turns", "segments", "ref_words"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "tracks", tuple((s, Path(p)) for s, p in self.tracks))
        if self.channels and self.tracks:
            raise InvalidRecord(
                f"Sample {self.id!r}: give channels or tracks, not both (tracks are files, "
                "channels are the channels of the audio file)"
            )
        names = self.stream_speakers
        if any(not str(n).strip() for n in names) or len(set(names)) != len(names):
            raise InvalidRecord(
                f"Sample {self.id!r}: channel/track speakers {list(names)} must be distinct, "
                "non-empty names"
            )

    @property
    def stream_speakers(self) -> tuple[str, ...]:
        """The speaker of each channel or track, in order (empty for an ordinary recording)."""
        return self.channels or tuple(s for s, _ in self.tracks)


@dataclass(frozen=True)
class Chunk:
    """A window of a recording sent to a provider on its own; `offset_s` maps it to global time."""

    sample_id: str
    index: int
    offset_s: float
    duration_s: float

    def __post_init__(self) -> None:
        if self.index < 0:
            raise InvalidRecord(f"Chunk {self.sample_id}#{self.index}: index must be >= 0")
        _check_time("offset_s", self.offset_s, f"Chunk {self.sample_id}#{self.index}")
        if not self.duration_s > 0:
            raise InvalidRecord(
                f"Chunk {self.sample_id}#{self.index}: duration_s={self.duration_s} must be > 0"
            )

    @property
    def end_s(self) -> float:
        return self.offset_s + self.duration_s


@dataclass(frozen=True)
class Measured:
    """What transcribing cost when it was done: engine seconds, the wall time of the requests
    that succeeded (the engine time for local engines), HTTP attempts and the retries among
    them, and list price in US dollars (None when no price is documented). Adds over chunks;
    kept by the cache.

    ``attempts`` and ``retries`` count HTTP requests only: a local engine makes none, so its
    windows are neither attempts nor retries. ``retries`` = attempts beyond the first of each
    request (a polling API's several requests are not retries)."""

    processing_s: float = 0.0
    latency_s: float = 0.0
    attempts: int = 0
    cost_usd: float | None = 0.0
    retries: int = 0

    def __add__(self, other: Measured) -> Measured:
        if not isinstance(other, Measured):
            return NotImplemented
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else self.cost_usd + other.cost_usd
        )
        return Measured(
            self.processing_s + other.processing_s,
            self.latency_s + other.latency_s,
            self.attempts + other.attempts,
            cost,
            self.retries + other.retries,
        )

    def __radd__(self, other: object) -> Measured:
        return self if other == 0 else NotImplemented  # type: ignore[return-value]


Status = Literal["ok", "failed"]

CHANNEL_MODES = ("mix", "split")
"""``mix``: the channels downmixed to mono (one stream); ``split``: each channel or track
transcribed on its own, its words labelled with the channel's speaker."""

MODES = ("batch", "streaming")
"""``batch``: the recording sent whole (or in chunks); ``streaming``: sent as paced PCM frames to
the provider's streaming engine, which answers with timed partials and finals."""

MERGE_STRATEGIES = ("concat", "text-align", "timestamp")
"""How neighbouring windows' transcripts are joined (see ``stt_eval.chunking.merge_chunks``)."""

EXECUTORS = ("local", "dask")
"""Where jobs run: this machine's processes and threads, or a Dask cluster."""

CHANNELS_DIARIZER = "channels"
"""The diarizer column of a ``split`` row: its speakers come from the channels, not a model."""


@dataclass(frozen=True)
class RowDetail:
    """What a row was scored on beyond its counts, for exports that re-score it elsewhere: the
    normalized reference and hypothesis words WER aligned, the hypothesis's timed words (raw,
    global time) and, where DER was scored, the reference and hypothesis speaker turns; and
    where a chunked transcript was cut (for attributing its errors to the cuts; in memory only).

    Kept in the run's ``transcripts.jsonl`` beside ``rows.jsonl``, never in the tidy table."""

    ref: tuple[str, ...] = ()
    hyp: tuple[str, ...] = ()
    words: tuple[Word, ...] = ()
    ref_turns: tuple[SpeakerTurn, ...] | None = None
    hyp_turns: tuple[SpeakerTurn, ...] | None = None
    cuts: tuple[float, ...] = ()


@dataclass(frozen=True)
class UnitDone:
    """One window (or whole recording) transcribed: by which provider, from the cache or not,
    after how many HTTP retries (0 for a local engine), at what list price (None: unknown)."""

    provider: str
    cached: bool
    retries: int
    cost_usd: float | None
    audio_s: float = 0.0
    """The window's audio seconds (what the ETA weighs windows by)."""
    busy_s: float = 0.0
    """Seconds the engine took (as measured when it was made, for a cache hit)."""


@dataclass(frozen=True)
class Activity:
    """What a worker does before it can transcribe (start up, load a model), for the progress
    line: begun (``seconds`` None) or done after ``seconds``; ``worker`` is its process id."""

    worker: int
    what: str
    seconds: float | None = None
