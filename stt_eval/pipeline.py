"""One recording through the pipeline: condition → chunk → transcribe (cached) → merge → score.

Plain functions over plain data; the runner only decides what to call on which worker.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from stt_eval.audio import AudioClip
from stt_eval.cache import TranscriptCache, cache_key
from stt_eval.metrics.wer import char_counts, score_text
from stt_eval.providers.base import Provider
from stt_eval.types import Chunk, ResultRow, Sample, Transcript


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
    start = time.perf_counter()
    transcript = provider.transcribe(clip, options)
    elapsed = time.perf_counter() - start
    cache.put(key, transcript)
    return transcript, elapsed, False


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
    if chunking == "none":
        t, secs, cached = transcribe_chunk(provider, clip, options, cache)
        return Transcribed(t, (), secs, cached)
    from stt_eval.chunking import merge_chunks, parse_chunking, plan_vad_windows, plan_windows

    setting = parse_chunking(chunking)
    if setting.chunk_s is None:
        return transcribe(provider, clip, options, cache, "none", merge, sample_id)
    if setting.planner == "vad":
        windows = plan_vad_windows(clip, setting.chunk_s, setting.overlap_s, sample_id=sample_id)
    else:
        windows = plan_windows(
            clip.duration_s, setting.chunk_s, setting.overlap_s, sample_id=sample_id
        )
    parts: list[tuple[Chunk, Transcript]] = []
    total, all_cached = 0.0, True
    for window in windows:
        t, secs, cached = transcribe_chunk(
            provider, clip.slice(window.offset_s, window.end_s), options, cache
        )
        parts.append((window, t))
        total += secs
        all_cached &= cached
    cuts = tuple(w.offset_s for w in windows[1:])
    return Transcribed(merge_chunks(parts, merge), cuts, total, all_cached)


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


def failure_row(base: ResultRow, error: BaseException | str) -> ResultRow:
    """A failed cell: status "failed" and the reason; never an empty hypothesis scored as ok."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return replace(base, status="failed", error=message, hits=0, subs=0, dels=0, ins=0, ref_words=0)
