"""Voice activity: where a clip has no speech, as the silence finder the VAD chunk planner needs.

The Silero VAD that ships with faster-whisper (onnx, offline), wrapped as a plain function from
a clip to its non-speech intervals. The pipeline injects it into
``plan_chunks(find_silences=speech_silences)``, so chunking itself imports no engine.
"""

from __future__ import annotations

from stt_eval.audio.load import TARGET_RATE, AudioClip, normalize

_EPS = 1e-6
"""Gaps shorter than this (seconds, well under one sample at 16 kHz) are not silences."""


def speech_silences(clip: AudioClip, min_silence_s: float = 0.1) -> list[tuple[float, float]]:
    """Non-speech intervals (seconds from the clip's start) found by the Silero VAD.

    Pauses shorter than ``min_silence_s`` count as speech. Each speech segment is padded by
    30 ms, so a silence never clips the edge of a word.
    """
    # faster_whisper is the engine package (heavy: CTranslate2, onnxruntime): import it only
    # when a VAD plan is actually made.
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if clip.sample_rate != TARGET_RATE:
        clip = normalize(clip.samples, clip.sample_rate)
    opts = VadOptions(
        threshold=0.5,
        min_speech_duration_ms=0,
        min_silence_duration_ms=int(min_silence_s * 1000),
        speech_pad_ms=30,
    )
    speech = get_speech_timestamps(clip.samples, opts, sampling_rate=TARGET_RATE)
    out: list[tuple[float, float]] = []
    prev = 0.0
    for seg in speech:
        start, end = seg["start"] / TARGET_RATE, seg["end"] / TARGET_RATE
        if start - prev > _EPS:
            out.append((prev, start))
        prev = max(prev, end)
    if clip.duration_s - prev > _EPS:
        out.append((prev, clip.duration_s))
    return out
