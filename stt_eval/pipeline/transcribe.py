"""Transcription of prepared audio through the content-addressed cache: whole, or window by
window merged back in global time; and local diarization through the same cache.

Split out of :mod:`stt_eval.pipeline.recording` so the per-channel path (:mod:`stt_eval.pipeline.by_channel`) uses the
very same stages as the mix.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from stt_eval.audio.load import AudioClip
from stt_eval.cache.store import TranscriptCache, cache_key
from stt_eval.chunking import ChunkingError, ChunkSetting, cut_points, merge_chunks, parse_chunking
from stt_eval.chunking.strategies import MIN_ADVANCE_S, collapsed, continue_point, stronger
from stt_eval.conditions.spec import padding
from stt_eval.pipeline.prepare import PreparedAudio, WholeAudio, mean_snr
from stt_eval.providers.base import Provider
from stt_eval.providers.http import metered
from stt_eval.providers.prices import Price, cost_usd, price_of
from stt_eval.types import Activity, Chunk, Measured, Sample, SpeakerTurn, Transcript, Word


@dataclass(frozen=True)
class Transcribed:
    """A (possibly chunked and merged) transcript, where the cuts were, what it cost, whether
    all of it came from the cache, and the achieved SNR of the audio (None: no noise added)."""

    transcript: Transcript
    cuts: tuple[float, ...] = ()
    measured: Measured = Measured()
    cached: bool = False
    snr_db: float | None = None


def on_padded_timeline(sample: Sample, condition: str) -> Sample:
    """The sample with its reference times moved by the padding a condition puts before the
    recording, so they line up with the padded audio the engine heard (and its words in the
    padding are hypothesised where nobody spoke)."""
    start = padding(condition)[0]
    if not start:
        return sample

    def moved(items: Any) -> Any:
        return (
            None
            if items is None
            else tuple(replace(i, start=i.start + start, end=i.end + start) for i in items)
        )

    return replace(
        sample,
        turns=moved(sample.turns),
        segments=moved(sample.segments),
        ref_words=moved(sample.ref_words),
    )


def price(provider: Any, *, streaming: bool = False) -> Price | None:
    """A provider's list price per audio minute (its override, else the price table;
    ``streaming``: of its streaming mode)."""
    return price_of(
        provider.name,
        getattr(provider, "model", None),
        getattr(provider, "price_per_minute", None),
        streaming=streaming,
    )


_LOADS: ContextVar[list[float] | None] = ContextVar("stt_eval_model_loads", default=None)
"""Seconds spent loading models inside the current job (see :func:`run_recording`)."""

EVENTS: ContextVar[Any] = ContextVar("stt_eval_progress_events", default=None)
"""The running job's progress queue, if any: a model's first load in a process is announced
on it (:class:`~stt_eval.types.Activity`), so the progress line says what it waits for."""

_LOADED: set[str] = set()
"""The components this process has loaded (announced once each)."""


def loading_label(component: Any) -> str:
    """What the progress line says while `component` loads: its own ``loading`` text, else
    its name and model."""
    name = getattr(component, "name", type(component).__name__)
    model = getattr(component, "model", None)
    return getattr(component, "loading", None) or f"loading {name}{f' {model}' if model else ''}"


def _timed_load(component: Any) -> None:
    """Load a provider's or diarizer's model (once per process; later calls are free), add
    the time it took to the running job's load time, and announce a first load."""
    events, first = EVENTS.get(), repr(component) not in _LOADED
    announce = events is not None and first
    if announce:
        events.put(Activity(os.getpid(), loading_label(component)))
    start = time.perf_counter()
    try:
        component.load()
    finally:
        elapsed = time.perf_counter() - start
        if announce:
            events.put(Activity(os.getpid(), loading_label(component), elapsed))
    _LOADED.add(repr(component))
    loads = _LOADS.get()
    if loads is not None:
        loads.append(elapsed)


def transcribe_clip(
    provider: Provider, clip: AudioClip, options: Mapping[str, Any], cache: TranscriptCache
) -> tuple[Transcript, Measured, bool]:
    """One transcription, through the content-addressed cache.

    Returns the transcript, what it cost when it was made (a cache hit keeps the measured time
    and price, so a resumed run reports what the work cost) and whether it was a hit. A clip
    with no samples is not sent (it holds no words), and an engine that returns nothing gave
    an empty transcript: neither is a failure of the recording.
    """
    if not len(clip.samples):
        return Transcript(text=""), Measured(), False
    key = cache_key(clip.to_wav_bytes(), provider.cache_identity(), options)
    hit = cache.get(key)
    if hit is not None:
        return hit.transcript, hit.measured, True
    _timed_load(provider)
    with metered() as meter:
        start = time.perf_counter()
        transcript = provider.transcribe(clip, options) or Transcript(text="")
        elapsed = time.perf_counter() - start
    remote = meter.requests > 0
    measured = Measured(
        processing_s=elapsed,
        latency_s=meter.latency_s if remote else elapsed,
        attempts=meter.attempts,  # HTTP attempts only: a local engine makes none
        cost_usd=cost_usd(price(provider), clip.duration_s),
        retries=meter.attempts - meter.requests,
    )
    cache.put(key, transcript, measured)
    return transcript, measured, False


def transcribe(
    provider: Provider,
    audio: PreparedAudio,
    options: Mapping[str, Any],
    cache: TranscriptCache,
    chunking: str = "none",
    merge: str = "timestamp",
    sample_id: str = "",
    on_unit: Callable[[Measured, bool, float], None] | None = None,
) -> Transcribed:
    """Transcribe prepared audio whole, or window by window merged back in global time;
    `on_unit(measured, cached, audio_s)` is called after each window (for progress)."""
    setting = parse_chunking(chunking)
    report = on_unit or (lambda measured, cached, audio_s: None)
    if not setting.enabled:
        if not isinstance(audio, WholeAudio):
            raise ValueError("an unchunked transcription needs the whole recording in memory")
        t, measured, cached = transcribe_clip(provider, audio.clip, options, cache)
        report(measured, cached, audio.clip.duration_s)
        return Transcribed(t, (), measured, cached, audio.conditioned.snr_db)
    run = _Windows(provider, audio, options, cache, report)
    if setting.strategy == "continue":
        return run.continued(setting, sample_id)
    windows = audio.plan(setting, sample_id)
    parts = [(window, run.one(window)) for window in windows]
    merged = merge_chunks(parts, merge)
    if setting.strategy == "redecode":
        merged = run.redecoded(parts, merge, merged)
    return Transcribed(merged, cut_points(windows), run.total, run.cached, mean_snr(run.snrs))


class _Windows:
    """Windows of one recording transcribed through the cache, with what they cost: the fixed
    plan, a collapsed window decoded again (``redecode``), or windows placed one after another
    where the engine stopped (``continue``); see ``stt_eval.chunking.settings``."""

    def __init__(self, provider: Provider, audio: PreparedAudio, options, cache, report) -> None:
        self.provider, self.audio, self.options, self.cache = provider, audio, options, cache
        self.report = report
        self.total, self.cached, self.snrs = Measured(), True, []

    def one(self, window: Chunk, provider: Provider | None = None) -> Transcript:
        """One window's transcript (chunk-local time), its cost added to the total."""
        ((_, conditioned),) = self.audio.windows([window])
        t, measured, cached = transcribe_clip(
            provider or self.provider, conditioned.clip, self.options, self.cache
        )
        self.report(measured, cached, conditioned.clip.duration_s)
        self.snrs.append(conditioned.snr_db)
        self.total += measured
        self.cached &= cached
        return t

    def redecoded(
        self, parts: Sequence[tuple[Chunk, Transcript]], merge: str, merged: Transcript
    ) -> Transcript:
        """The merge again with each collapsed window decoded at beam 5, where that heard more."""
        better = stronger(self.provider)
        if better is None:
            said = f"redecode: {self.provider.name} has no stronger setting; windows kept as heard"
            return replace(merged, warnings=(*merged.warnings, said))
        again = {i: self.one(parts[i][0], better) for i in collapsed(parts)}
        fixed = [
            (c, again[i]) if i in again and len(again[i].words) > len(t.words) else (c, t)
            for i, (c, t) in enumerate(parts)
        ]
        out = merge_chunks(fixed, merge)
        return replace(out, raw={**out.raw, "redecoded": sorted(again)})

    def continued(self, setting: ChunkSetting, sample_id: str) -> Transcribed:
        """Windows placed one after another, each from where the previous one's last confident
        word ended (``continue_point``), until one hears to the end of the recording. The
        first window to reach the end starts earlier if it would be under half a chunk, for
        context, keeping only its words after the seam."""
        chunk_s, duration = float(setting.chunk_s or 0.0), self.audio.duration_s
        start, seam, tail, kept, cuts, language = 0.0, 0.0, False, [], [], None
        while True:  # every window moves the seam on by >= MIN_ADVANCE_S or ends the recording
            window = Chunk(sample_id, len(cuts), start, min(chunk_s, duration - start))
            t = self.one(window).shifted(start)
            if t.text.strip() and not t.words:
                raise ChunkingError(
                    f"the 'continue' strategy needs word times, and {self.provider.name} gave "
                    "none; use a fixed setting such as '30s/2s'"
                )
            language = language or t.language
            at_end = window.end_s >= duration - 1e-6
            stop = continue_point(t.words, window, setting.overlap_s, at_end)
            if at_end and stop >= duration - MIN_ADVANCE_S:
                stop = duration
            kept += [w for w in t.words if seam <= _mid(w) and (w.end <= stop or stop == duration)]
            if stop >= duration:
                break
            cuts.append(stop)
            seam, start = stop, stop
            if duration - stop < chunk_s / 2 and not tail:
                start, tail = max(0.0, duration - chunk_s / 2), True
        text = " ".join(w.text.strip() for w in kept if w.text.strip())
        merged = Transcript(text, tuple(kept), language=language, raw={"strategy": "continue"})
        return Transcribed(merged, tuple(cuts), self.total, self.cached, mean_snr(self.snrs))


def _mid(w: Word) -> float:
    return (w.start + w.end) / 2


def diarize(
    diarizer: Any, clip: AudioClip, cache: TranscriptCache
) -> tuple[tuple[SpeakerTurn, ...], float, bool]:
    """Speaker turns of a clip from a local diarizer, through the same content-addressed cache."""
    key = cache_key(clip.to_wav_bytes(), diarizer.cache_identity(), {"task": "diarize"})
    hit = cache.get(key)
    if hit is not None:
        return hit.transcript.turns, hit.measured.processing_s, True
    _timed_load(diarizer)
    events, doing = EVENTS.get(), f"diarizing {clip.duration_s:.0f} s with {diarizer.name}"
    if events is not None:
        events.put(Activity(os.getpid(), doing))
    start = time.perf_counter()
    try:
        turns = tuple(diarizer.diarize(clip))
    finally:
        elapsed = time.perf_counter() - start
        if events is not None:
            events.put(Activity(os.getpid(), doing, 0.0))  # work, not set-up: not left out
    cache.put(key, Transcript(text="", turns=turns), Measured(elapsed, elapsed, 0, 0.0))
    return turns, elapsed, False
