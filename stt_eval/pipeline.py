"""One recording through the pipeline: condition → chunk → transcribe (cached) → merge → score.

Plain functions over plain data; the runner only decides what to call on which worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stt_eval.audio import AudioClip
from stt_eval.cache import TranscriptCache, cache_key
from stt_eval.metrics.wer import char_counts, score_text
from stt_eval.providers.base import Provider
from stt_eval.types import Chunk, ResultRow, Sample, SpeakerTurn, Transcript


@dataclass(frozen=True)
class Transcribed:
    """A (possibly chunked and merged) transcript, where the cuts were, and what it cost."""

    transcript: Transcript
    cuts: tuple[float, ...]
    processing_s: float
    cached: bool


def transcribe_chunk(
    provider: Provider, clip: AudioClip, options: Mapping[str, Any], cache: TranscriptCache
) -> tuple[Transcript, float, bool]:
    """Transcribe one clip, through the content-addressed cache; time counts only engine work."""
    key = cache_key(clip.to_wav_bytes(), provider.cache_identity(), options)
    hit = cache.get(key)
    if hit is not None:
        return hit, 0.0, True
    provider.load()
    start = time.perf_counter()
    transcript = provider.transcribe(clip, options)
    elapsed = time.perf_counter() - start
    cache.put(key, transcript)
    return transcript, elapsed, False


def _transcribe_windows(
    provider: Provider,
    windows: Sequence[Chunk],
    clips: Iterable[tuple[Chunk, AudioClip]],
    options: Mapping[str, Any],
    cache: TranscriptCache,
    merge: str,
) -> Transcribed:
    """Transcribe each window's clip on its own (cached) and merge them in global time."""
    from stt_eval.chunking import cut_points, merge_chunks

    parts: list[tuple[Chunk, Transcript]] = []
    total, all_cached = 0.0, True
    for window, clip in clips:
        t, secs, cached = transcribe_chunk(provider, clip, options, cache)
        parts.append((window, t))
        total += secs
        all_cached &= cached
    return Transcribed(merge_chunks(parts, merge), cut_points(windows), total, all_cached)


def transcribe(
    provider: Provider,
    clip: AudioClip,
    options: Mapping[str, Any],
    cache: TranscriptCache,
    chunking: str = "none",
    merge: str = "timestamp",
    sample_id: str = "",
) -> Transcribed:
    """Transcribe a whole clip, or its windows one by one and merge them back in global time."""
    from stt_eval.chunking import parse_chunking, plan_chunks

    setting = parse_chunking(chunking)
    if setting.chunk_s is None:
        t, secs, cached = transcribe_chunk(provider, clip, options, cache)
        return Transcribed(t, (), secs, cached)
    windows = plan_chunks(setting, clip, sample_id)
    clips = ((w, clip.slice(w.offset_s, w.end_s)) for w in windows)
    return _transcribe_windows(provider, windows, clips, options, cache, merge)


def transcribe_stream(
    provider: Provider,
    path: Path,
    options: Mapping[str, Any],
    cache: TranscriptCache,
    chunking: str,
    merge: str,
    sample_id: str = "",
    condition: Callable[[AudioClip, int], tuple[AudioClip, float | None]] | None = None,
) -> tuple[Transcribed, float | None]:
    """Transcribe a long recording window by window, read from disk one window at a time.

    Memory stays at one window whatever the recording's length. `condition(clip, index)` is
    applied to each window on its own (seeded per window); the returned SNR is the mean of the
    windows' achieved SNRs in dB (None when no noise was added).
    """
    from stt_eval.chunking import iter_chunk_clips, parse_chunking, plan_chunks_from_file

    windows = plan_chunks_from_file(parse_chunking(chunking), path, sample_id)
    snrs: list[float] = []

    def conditioned() -> Iterator[tuple[Chunk, AudioClip]]:
        for window, clip in iter_chunk_clips(path, windows):
            if condition is not None:
                clip, snr = condition(clip, window.index)
                if snr is not None:
                    snrs.append(snr)
            yield window, clip

    merged = _transcribe_windows(provider, windows, conditioned(), options, cache, merge)
    return merged, (sum(snrs) / len(snrs) if snrs else None)


def score_row(base: ResultRow, sample: Sample, result: Transcribed, normalizer: str) -> ResultRow:
    """Fill a row's counts from a transcript scored against the sample's reference."""
    ws = score_text(sample.text, result.transcript.text, normalizer, sample.language)
    cc = char_counts(ws.ref, ws.hyp)
    boundary = None
    if result.cuts:
        from stt_eval.chunking import boundary_errors

        boundary = boundary_errors(
            ws,
            result.transcript.words,
            result.cuts,
            normalizer=normalizer,
            language=sample.language,
        )
    return replace(
        base,
        hits=ws.counts.hits,
        subs=ws.counts.subs,
        dels=ws.counts.dels,
        ins=ws.counts.ins,
        ref_words=ws.counts.ref_words,
        ref_chars=cc.ref_chars,
        char_edits=cc.edits,
        boundary_errors=boundary,
        processing_s=result.processing_s,
        cached=result.cached,
        language=result.transcript.language,
        hypothesis=result.transcript.text,
    )


def identity(component: Any) -> Mapping[str, Any]:
    """What identifies a component's output for the cache: its own identity, else its fields."""
    if hasattr(component, "cache_identity"):
        return component.cache_identity()
    from dataclasses import asdict
    from importlib import metadata

    try:
        version = metadata.version(component.name)
    except metadata.PackageNotFoundError:
        version = None
    return {"component": component.name, "version": version, **asdict(component)}


def diarize(
    diarizer: Any, clip: AudioClip, cache: TranscriptCache
) -> tuple[tuple[SpeakerTurn, ...], float, bool]:
    """Speaker turns of a clip from a local diarizer, through the same content-addressed cache."""
    key = cache_key(clip.to_wav_bytes(), identity(diarizer), {"task": "diarize"})
    hit = cache.get(key)
    if hit is not None:
        return hit.turns, 0.0, True
    if hasattr(diarizer, "load"):
        diarizer.load()
    start = time.perf_counter()
    turns = tuple(diarizer.diarize(clip))
    elapsed = time.perf_counter() - start
    cache.put(key, Transcript(text="", turns=turns))
    return turns, elapsed, False


def speaker_turns_of(transcript: Transcript) -> tuple[SpeakerTurn, ...]:
    """A provider's own diarization: its turns, else runs of words with the same speaker."""
    if transcript.turns:
        return transcript.turns
    turns: list[SpeakerTurn] = []
    for w in transcript.words:
        if w.speaker is None:
            continue
        if turns and turns[-1].speaker == w.speaker:
            turns[-1] = SpeakerTurn(w.speaker, turns[-1].start, max(turns[-1].end, w.end))
        else:
            turns.append(SpeakerTurn(w.speaker, w.start, max(w.end, w.start + 1e-3)))
    return tuple(turns)


def score_speakers(
    row: ResultRow,
    sample: Sample,
    transcript: Transcript,
    hyp_turns: tuple[SpeakerTurn, ...],
    normalizer: str,
    collar: float,
    skip_overlap: bool,
) -> ResultRow:
    """Add DER/JER (reference RTTM vs hypothesis turns) and cpWER (reference STM vs words with
    speakers assigned from the turns) to a scored row."""
    from stt_eval.diarizers.base import assign_speakers
    from stt_eval.metrics.diarization import score_diarization

    if sample.turns is None:
        return row
    ds = score_diarization(sample.turns, hyp_turns, collar=collar, skip_overlap=skip_overlap)
    row = replace(
        row,
        der_missed_s=ds.counts.missed_s,
        der_false_alarm_s=ds.counts.false_alarm_s,
        der_confusion_s=ds.counts.confusion_s,
        der_total_s=ds.counts.total_s,
        jer=ds.jer,
        collar_s=collar,
        warning=ds.reason,
    )
    stm = sample.meta.get("stm_path")
    if stm and transcript.words and hyp_turns:
        from stt_eval.datasets.manifest import reference_segments
        from stt_eval.metrics.speaker_wer import cpwer

        words = assign_speakers(transcript.words, hyp_turns)
        cp = cpwer(reference_segments(Path(stm), sample.id), words, normalizer, sample.language)
        row = replace(row, cp_errors=cp.errors, cp_ref_words=cp.ref_words)
    return row


def failure_row(base: ResultRow, error: BaseException | str) -> ResultRow:
    """A failed cell: status "failed" and the reason; never an empty hypothesis scored as ok."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return replace(base, status="failed", error=message, hits=0, subs=0, dels=0, ins=0, ref_words=0)
