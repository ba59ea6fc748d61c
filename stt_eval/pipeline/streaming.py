"""A streaming cell: the conditioned recording sent as paced frames to the provider's streaming
engine, its timeline cached, scored for WER like a batch transcript and for latency and
stability from the timeline (:mod:`stt_eval.metrics.streaming`).

The cache keeps the timeline (every message with its receipt time on the audio clock) under a
key of the audio, the streaming engine's identity, the pace and the frame size: a re-run scores
it again without streaming and keeps the latencies measured when it was made.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from stt_eval.audio.load import AudioClip, to_int16
from stt_eval.cache.store import TranscriptCache, cache_key
from stt_eval.metrics.streaming import streaming_counts
from stt_eval.pipeline.prepare import PreparedAudio, WholeAudio
from stt_eval.pipeline.score import Scored, Scoring, join_warnings, score_transcript
from stt_eval.pipeline.transcribe import _timed_load, price
from stt_eval.providers.prices import cost_usd
from stt_eval.rows import Measurement, ResultRow
from stt_eval.streaming.events import AudioClock, StreamingProvider, Timeline, paced_frames
from stt_eval.streaming.pace import pace_factor
from stt_eval.streaming.registry import get_streaming_provider
from stt_eval.types import Measured, Sample, Transcript

NO_REFERENCE_TIMES = (
    "no reference word times (ctm) for this sample: per-word latency and end of speech to "
    "final are not measured; add a ctm to the manifest or run stt-eval align on it"
)


@dataclass(frozen=True)
class Streamed:
    """A stream's timeline, what it cost when it was made, and whether it came from the cache."""

    timeline: Timeline
    measured: Measured
    cached: bool


def transcript_of(timeline: Timeline) -> Transcript:
    """The stream's transcript: its finals' text and words (what WER is scored on)."""
    words = tuple(w for e in timeline.finals for w in e.words)
    return Transcript(text=timeline.text, words=words, raw={"timeline": timeline.to_json()})


def stream_clip(
    provider: StreamingProvider,
    clip: AudioClip,
    options: Mapping[str, Any],
    cache: TranscriptCache,
    pace: str,
    frame_ms: int,
) -> Streamed:
    """Stream one clip through the cache. Measured: ``processing_s`` is the engine's compute
    (local engines report it in the timeline's meta), ``latency_s`` the stream's wall time for
    a remote one and the compute for a local one, so a row's RTFx is audio over compute."""
    identity = {**provider.cache_identity(), "mode": "streaming"}
    key = cache_key(clip.to_wav_bytes(), identity, {**options, "pace": pace, "frame_ms": frame_ms})
    hit = cache.get(key)
    if hit is not None and isinstance((hit.transcript.raw or {}).get("timeline"), dict):
        return Streamed(Timeline.from_json(hit.transcript.raw["timeline"]), hit.measured, True)
    if hasattr(provider, "load"):
        _timed_load(provider)
    clock = AudioClock(pace_factor(pace))
    frames = paced_frames(to_int16(clip.samples).tobytes(), clip.sample_rate, frame_ms, clock)
    start = time.perf_counter()
    timeline = asyncio.run(provider.stream(frames, clip.sample_rate, clock, options))
    wall = time.perf_counter() - start
    compute = timeline.meta.get("compute_s")
    measured = Measured(
        processing_s=wall if compute is None else float(compute),
        latency_s=wall if compute is None else float(compute),
        attempts=1 + sum(e.kind == "reconnect" for e in timeline.events),
        cost_usd=cost_usd(price(provider, streaming=True), clip.duration_s),  # type: ignore[arg-type]
    )
    cache.put(key, transcript_of(timeline), measured)
    return Streamed(timeline, measured, False)


def score_stream(sample: Sample, timeline: Timeline, scoring: Scoring) -> Scored:
    """WER counts of the finals, with the stream's latency and stability counts."""
    scored = score_transcript(sample, transcript_of(timeline), (), scoring)
    counts = streaming_counts(
        timeline.events, sample.ref_words, scoring.normalizer, sample.language
    )
    return replace(
        scored,
        counts=scored.counts.set(streaming=counts),
        warning=join_warnings(scored.warning, None if sample.ref_words else NO_REFERENCE_TIMES),
    )


def run_streaming_cell(
    job: Any,
    cell: Any,
    audio: PreparedAudio,
    cache: TranscriptCache,
    on_unit: Callable[[Measured, bool, float], None],
) -> ResultRow:
    """One streaming cell (a ``pipeline.cell.Cell``) of a ``RecordingJob``; a stream that
    ended in an error without a final fails its row."""
    if not isinstance(audio, WholeAudio):
        raise ValueError("a streaming cell needs the whole recording in memory")
    provider = get_streaming_provider(cell.provider.name, dict(cell.provider.options))
    options = {"language": job.sample.language}
    assert cell.pace is not None and cell.frame_ms is not None  # set on every streaming cell
    streamed = stream_clip(provider, audio.clip, options, cache, cell.pace, cell.frame_ms)
    on_unit(streamed.measured, streamed.cached, audio.duration_s)
    measurement = Measurement.of(
        streamed.measured, audio.duration_s, audio.conditioned.snr_db, streamed.cached
    )
    errors = [e.detail or "error" for e in streamed.timeline.events if e.kind == "error"]
    if errors and not streamed.timeline.finals:
        row = replace(job.base_row(cell), measurement=measurement)
        return row.failed(f"stream ended in an error: {errors[-1]}", "transient")
    scored = score_stream(job.sample, streamed.timeline, job.scoring)
    return job.scored_row(cell, scored, measurement, *audio.warnings)
