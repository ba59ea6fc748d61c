"""A recording made ready for an engine: loaded (or opened for streaming) and conditioned.

This is the one place where a condition chain meets a recording, so a run, ``stt-eval
transcribe --condition`` and ``stt-eval conditions preview`` hear the same audio for the same
sample, condition and seed. Seeds come from :func:`condition_seed` only.

Two shapes, one contract (``duration_s``, ``plan``, ``windows``, ``warnings``):

- :class:`WholeAudio`: the recording decoded and conditioned in memory once; windows are slices.
- :class:`StreamedAudio`: a long recording on disk, read and conditioned one window at a time
  (window ``k`` seeded with ``condition_seed(seed, id, condition, k)``), so memory does not grow
  with its length. Its VAD cuts are planned on the unconditioned recording, and its SNR is the
  mean of the windows' achieved SNRs.

``warnings`` are about the source recording (digital silence, channels that cancel in the mono
downmix, float samples past full scale; see :func:`stt_eval.audio.load.read_audio`): the audio is
still transcribed and scored, and every row made from it should carry them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from stt_eval.audio.load import (
    AudioClip,
    AudioError,
    LoadedAudio,
    audio_duration,
    audio_warnings,
    load_audio,
    open_audio,
    read_audio,
)
from stt_eval.audio.vad import speech_silences
from stt_eval.chunking import ChunkSetting, plan_chunks
from stt_eval.conditions import (
    Conditioned,
    ConditionError,
    apply_chain,
    derive_seed,
    parse_chain,
)
from stt_eval.conditions.crosstalk import leak
from stt_eval.conditions.noise import BABBLE_TALKERS
from stt_eval.conditions.spec import Chain, leakage_db, padding
from stt_eval.types import Chunk, Sample

STREAM_ABOVE_S = 600.0
"""Chunked recordings longer than this (seconds) are read and conditioned one window at a time."""


def condition_seed(seed: int, sample_id: str, condition: str, window: int | None = None) -> int:
    """The seed of one sample × condition (× window, for streamed recordings).

    ``condition`` is the canonical chain text (:func:`~stt_eval.conditions.spec.canonical_condition`), so two spellings of
    one chain get the same noise.

    >>> condition_seed(0, "a", "clean") == condition_seed(0, "a", "clean") != condition_seed(1, "a", "clean")
    True
    """
    keys = (sample_id, condition) if window is None else (sample_id, condition, str(window))
    return derive_seed(seed, *keys)


@dataclass(frozen=True)
class Recording:
    """What conditioning needs to know of a recording: its id (seeds), file and babble talkers.

    ``babble_paths`` are other recordings of the same dataset, mixed in by ``noise(kind=babble)``.
    """

    id: str
    path: Path
    babble_paths: tuple[str, ...] = ()
    span: tuple[float, float] | None = None
    """(offset, duration) in seconds when the sample is a slice of a longer recording (Kaldi
    segments, STM, NeMo offsets): only that span is heard, conditioned and scored."""

    @classmethod
    def of(cls, sample: Sample, babble_paths: tuple[str, ...] = ()) -> Recording:
        """The recording of a sample, with its span from ``meta.offset_s``/``meta.duration_s``."""
        meta = sample.meta
        span = None
        if meta.get("offset_s") is not None or meta.get("duration_s") is not None:
            offset, length = float(meta.get("offset_s") or 0.0), meta.get("duration_s")
            if length is None or not offset >= 0 or not float(length) > 0:
                raise AudioError(
                    sample.audio_path,
                    f"slice offset_s={offset!r} duration_s={length!r} is not a span",
                    "give meta.offset_s >= 0 and meta.duration_s > 0 (seconds)",
                )
            span = (offset, float(length))
        return cls(sample.id, sample.audio_path, babble_paths, span)


def sent_seconds(sample: Sample) -> float:
    """Seconds of audio a sample's cells send, for cost estimates, the budget and progress:
    its slice's length, else the file's, decoded when the header gives none or only a guess
    (MP3, m4a: estimated at 0 s, they passed any budget). 0 for a file or slice that cannot be
    read: its cells fail when the run reaches them."""
    try:
        span = Recording.of(sample).span
    except AudioError:
        return 0.0
    if span is not None:
        return span[1]
    try:
        stat = sample.audio_path.stat()
    except OSError:
        return 0.0
    return _file_seconds(str(sample.audio_path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4096)
def _file_seconds(path: str, mtime_ns: int, size: int) -> float:
    """A file's length, once per version of it (estimate, progress and job order all ask)."""
    header = audio_duration(path)
    if header is not None:
        return header
    try:
        with open_audio(path) as audio:
            return audio.duration_s
    except AudioError:
        return 0.0


@dataclass(frozen=True, eq=False)
class _Conditioner:
    """Applies one chain to clips of one recording; babble talkers are loaded once, on first use."""

    recording: Recording
    condition: str
    seed: int
    max_duration_s: float | None
    chain: Chain = field(init=False)
    _babble: list[AudioClip] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "chain", parse_chain(self.condition))

    def __call__(self, clip: AudioClip, window: int | None = None) -> Conditioned:
        if not self.chain:
            return Conditioned(clip, None)
        needs_babble = any(dict(s.params).get("kind") == "babble" for s in self.chain)
        if needs_babble and not self._babble:
            self._babble.extend(
                load_audio(p, self.max_duration_s) for p in self.recording.babble_paths
            )
        seed = condition_seed(self.seed, self.recording.id, self.condition, window)
        return apply_chain(clip, self.chain, seed, babble_sources=self._babble)


@dataclass(frozen=True, eq=False)
class WholeAudio:
    """A recording decoded and conditioned in memory: ``clip`` is exactly what engines hear;
    ``warnings`` are about the source recording."""

    conditioned: Conditioned
    warnings: tuple[str, ...] = ()

    @property
    def clip(self) -> AudioClip:
        return self.conditioned.clip

    @property
    def duration_s(self) -> float:
        return self.clip.duration_s

    def plan(self, setting: ChunkSetting, sample_id: str) -> list[Chunk]:
        return plan_chunks(
            setting,
            self.duration_s,
            self.clip.slice,
            find_silences=speech_silences,
            sample_id=sample_id,
        )

    def windows(self, chunks: Sequence[Chunk]) -> Iterator[tuple[Chunk, Conditioned]]:
        for chunk in chunks:
            yield (
                chunk,
                Conditioned(self.clip.slice(chunk.offset_s, chunk.end_s), self.conditioned.snr_db),
            )


@dataclass(frozen=True, eq=False)
class StreamedAudio:
    """A long recording on disk, read and conditioned window by window (bounded memory);
    ``warnings`` come from one scan of the whole file when it was prepared."""

    path: Path
    duration_s: float
    condition: _Conditioner
    warnings: tuple[str, ...] = ()

    def plan(self, setting: ChunkSetting, sample_id: str) -> list[Chunk]:
        with open_audio(self.path) as f:
            return plan_chunks(
                setting, self.duration_s, f.read, find_silences=speech_silences, sample_id=sample_id
            )

    def windows(self, chunks: Sequence[Chunk]) -> Iterator[tuple[Chunk, Conditioned]]:
        with open_audio(self.path) as f:
            for chunk in chunks:
                yield chunk, self.condition(f.read(chunk.offset_s, chunk.end_s), chunk.index)


PreparedAudio = WholeAudio | StreamedAudio


def should_stream(path: Path | str, needs_whole: bool) -> float | None:
    """The duration of a recording to stream (longer than STREAM_ABOVE_S, and no cell needs the
    whole clip: all chunked, none diarized), else None."""
    if needs_whole:
        return None
    duration = audio_duration(path)
    return duration if duration is not None and duration > STREAM_ABOVE_S else None


def prepare(
    recording: Recording,
    condition: str,
    seed: int,
    *,
    max_duration_s: float | None = None,
    needs_whole: bool = True,
) -> PreparedAudio:
    """Load (or open for streaming) and condition one recording; the pipeline's first stage.

    Raises AudioError for unusable (truncated, damaged, …) or over-long files and ConditionError
    for a chain that cannot run on this audio. A streamed recording is scanned whole first, so a
    damaged one fails here rather than after some of its windows were sent.
    """
    conditioner = _Conditioner(recording, condition, seed, max_duration_s)
    whole = needs_whole or recording.span is not None or padding(condition) != (0.0, 0.0)
    duration = should_stream(recording.path, whole)  # a pad needs the whole recording
    if duration is None:
        loaded = read_audio(recording.path, None if recording.span else max_duration_s)
        clip = loaded.clip
        if recording.span is not None:
            offset, length = recording.span
            if offset + length > clip.duration_s + 0.01:
                raise AudioError(
                    recording.path,
                    f"the slice {offset:g}-{offset + length:g} s ends after the "
                    f"recording ({clip.duration_s:.2f} s)",
                    "fix the segment times",
                )
            clip = clip.slice(offset, offset + length)
            if max_duration_s is not None and clip.duration_s > max_duration_s:
                raise AudioError(
                    recording.path,
                    f"the slice is {clip.duration_s:.0f} s long, "
                    f"over the {max_duration_s:.0f} s cap",
                    "raise max_duration_s",
                )
        return WholeAudio(conditioner(clip), loaded.warnings)
    if max_duration_s is not None and duration > max_duration_s:
        raise AudioError(
            recording.path,
            f"is {duration:.0f} s long, over the {max_duration_s:.0f} s per-file cap",
            "raise max_duration_s in the experiment, or split the file",
        )
    return StreamedAudio(recording.path, duration, conditioner, audio_warnings(recording.path))


def prepare_streams(
    recording: Recording,
    streams: Sequence[tuple[str, LoadedAudio]],
    condition: str,
    seed: int,
    *,
    max_duration_s: float | None = None,
) -> tuple[tuple[str, WholeAudio], ...]:
    """Condition each speaker stream of a recording on its own (``channel_mode = "split"``).

    A ``stereo_call`` chain first leaks every other stream into each (at its ``leakage_db``);
    then each stream goes through the chain with its own seed (the recording id + ``:speaker``),
    so two channels never share one noise draw.
    """
    db = leakage_db(parse_chain(condition))
    clips = [loaded.clip for _, loaded in streams]
    if db is not None and len(clips) > 1:
        n = min(len(c.samples) for c in clips)
        mixed = leak([c.samples[:n] for c in clips], db)
        clips = [AudioClip(m, c.sample_rate) for m, c in zip(mixed, clips, strict=True)]
    out = []
    for (speaker, loaded), clip in zip(streams, clips, strict=True):
        channel = replace(recording, id=f"{recording.id}:{speaker}")
        conditioner = _Conditioner(channel, condition, seed, max_duration_s)
        try:
            conditioned = conditioner(clip)
        except ConditionError as exc:
            raise ConditionError(f"channel {speaker!r}: {exc}") from exc
        out.append((speaker, WholeAudio(conditioned, loaded.warnings)))
    return tuple(out)


def mean_snr(snrs: Sequence[float | None]) -> float | None:
    """Mean of the achieved SNRs in dB that exist (None when no noise was added anywhere)."""
    known = [s for s in snrs if s is not None and math.isfinite(s)]
    return sum(known) / len(known) if known else None


def babble_talkers(path: Path | str, dataset_paths: Sequence[Path | str]) -> tuple[str, ...]:
    """The recordings mixed into one sample's babble: the first BABBLE_TALKERS others of its
    dataset, in manifest order (so the same sample hears the same talkers in every run)."""
    others = dict.fromkeys(str(p) for p in dataset_paths if str(p) != str(path))
    return tuple(others)[:BABBLE_TALKERS]
