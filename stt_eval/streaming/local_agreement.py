"""faster-whisper driven as a stream with the LocalAgreement-2 policy of whisper_streaming
(Macháček et al., "Turning Whisper into Real-Time Transcription System", 2023): *simulated*
streaming, labelled so in rows and reports.

Audio accumulates in a buffer; every ``step_s`` of new audio the whole buffer is transcribed
again. The longest common prefix of the last two hypotheses (after the words already
committed) is committed: a final. The rest of the newest hypothesis is the partial. When the
buffer is longer than ``trim_s`` it is cut after the last committed word that ends a sentence
(else after the last committed word), so each decode stays bounded. At the end of the stream the
buffer is decoded once more and everything left is committed.

Differences from whisper_streaming: no prompt from the committed text (the batch provider takes
none), and words are matched on their lower-cased letters and digits.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stt_eval.audio.load import TARGET_RATE, AudioClip
from stt_eval.providers.faster_whisper import FasterWhisper
from stt_eval.streaming.events import AudioClock, StreamEvent, Timeline
from stt_eval.streaming.local import RECEIPT, EngineClock
from stt_eval.types import Word

STEP_S = 1.0
"""whisper_streaming's default ``--min-chunk-size``: decode again after each second of audio."""
TRIM_S = 15.0
"""whisper_streaming's default ``--buffer_trimming_sec``."""
_SENTENCE_END = re.compile(r"[.?!…]$")


def _key(word: Word) -> str:
    return re.sub(r"[^\w]", "", word.text.lower())


def agreed(before: list[Word], after: list[Word]) -> list[Word]:
    """The longest common prefix of two hypotheses (words of `after`), LocalAgreement-2.

    >>> [w.text for w in agreed([Word("Go", 0, 1), Word("four", 1, 2)],
    ...                         [Word("go,", 0, 1), Word("forward", 1, 2)])]
    ['go,']
    """
    n = 0
    while n < min(len(before), len(after)) and _key(before[n]) == _key(after[n]):
        n += 1
    return after[:n]


@dataclass
class _Buffer:
    """The audio not yet trimmed, where it starts, and what has been committed."""

    samples: list[np.ndarray] = field(default_factory=list)
    offset_s: float = 0.0
    committed_end_s: float = 0.0
    tentative: list[Word] = field(default_factory=list)
    committed: list[Word] = field(default_factory=list)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.samples) if self.samples else np.zeros(0, np.float32)

    def trim(self, trim_s: float) -> None:
        """Cut the buffer after a committed sentence end once it is longer than ``trim_s``."""
        length = sum(len(s) for s in self.samples) / TARGET_RATE
        if length <= trim_s or not self.committed:
            return
        ends = [w.end for w in self.committed if _SENTENCE_END.search(w.text)]
        cut = max(e for e in (ends or [self.committed[-1].end]))
        if cut <= self.offset_s:
            return
        audio = self.audio()[round((cut - self.offset_s) * TARGET_RATE) :]
        self.samples, self.offset_s = [audio], cut


@dataclass(frozen=True)
class WhisperLocalAgreement:
    """The batch faster-whisper provider re-decoding a growing buffer."""

    batch: FasterWhisper = field(default_factory=FasterWhisper)
    name: str = "faster-whisper"
    simulated: bool = True

    @classmethod
    def of(cls, **options: Any) -> WhisperLocalAgreement:
        """The streaming side of ``FasterWhisper(**options)`` (the registry's factory)."""
        return cls(FasterWhisper(**options))

    def cache_identity(self) -> Mapping[str, Any]:
        policy = {"policy": "local-agreement-2", "step_s": STEP_S, "trim_s": TRIM_S}
        policy["receipt"] = RECEIPT
        return {**self.batch.cache_identity(), **policy}

    def load(self) -> None:
        self.batch.load()

    def _decode(self, buf: _Buffer, options: Mapping[str, Any]) -> list[Word]:
        """The buffer's words in stream time, those before the committed end left out."""
        t = self.batch.transcribe(AudioClip(buf.audio(), TARGET_RATE), options)
        words = [Word(w.text, buf.offset_s + w.start, buf.offset_s + w.end) for w in t.words]
        return [w for w in words if w.end > buf.committed_end_s + 0.05]

    async def stream(
        self,
        frames: AsyncIterator[bytes],
        sample_rate: int,
        clock: AudioClock,
        options: Mapping[str, Any] | None = None,
    ) -> Timeline:
        options, stamp, buf = dict(options or {}), EngineClock(clock), _Buffer()
        events: list[StreamEvent] = []
        fed = pending = 0

        def step(last: bool) -> None:
            stamp.begin()
            hyp = self._decode(buf, options) if fed else []
            commit = hyp if last else agreed(buf.tentative, hyp)
            buf.tentative = hyp[len(commit) :]
            at = stamp.end()
            if commit:
                buf.committed += commit
                buf.committed_end_s = commit[-1].end
                text = " ".join(w.text for w in commit)
                events.append(StreamEvent("final", at, text, tuple(commit), commit[0].start))
            if buf.tentative and not last:
                text = " ".join(w.text for w in buf.tentative)
                events.append(StreamEvent("partial", at, text, start_s=buf.tentative[0].start))
            buf.trim(TRIM_S)

        async for frame in frames:
            samples = np.frombuffer(frame, np.int16).astype(np.float32) / 32768.0
            buf.samples.append(samples)
            fed, pending = fed + len(samples), pending + len(samples)
            if pending >= STEP_S * sample_rate:
                step(last=False)
                pending = 0
        step(last=True)
        events.append(StreamEvent("closed", stamp.done_s if clock.pace is None else clock.now_s()))
        meta = {"compute_s": round(stamp.compute_s, 4), "engine": "faster-whisper"}
        return Timeline(tuple(events), fed / sample_rate, simulated=True, meta=meta)
