"""One recording through the pipeline: prepare → plan windows → transcribe (cached) → merge →
diarize → score.

:func:`run_recording` is the only per-recording path of a run; ``api.transcribe_file`` goes
through the same stages (:func:`~stt_eval.pipeline.prepare.prepare`, :func:`transcribe`,
:func:`diarize`). The runner only plans jobs and decides which worker runs them.
``channel_mode = "split"`` cells run the same stages once per channel or track
(:func:`~stt_eval.pipeline.prepare.prepare_streams`), then merge the channels' words
(:mod:`stt_eval.pipeline.by_channel`) and take speakers from the channels instead of a diarizer.

Exception policy: anything one recording can raise becomes a failure row with its reason and
kind (:mod:`stt_eval.pipeline.failures`), and the run carries on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stt_eval import __version__
from stt_eval.audio.streams import read_streams
from stt_eval.cache.store import TranscriptCache
from stt_eval.conditions import Conditioned, ConditionError
from stt_eval.conditions.spec import padding
from stt_eval.diarizers import get_diarizer
from stt_eval.errors import BadInput
from stt_eval.metrics.crosstalk import CrosstalkCounts, crosstalk_words
from stt_eval.metrics.intervals import merge_turns, turns_from_words
from stt_eval.pipeline.by_channel import TURN_GAP_S, merge_streams
from stt_eval.pipeline.cell import Cell
from stt_eval.pipeline.failures import Failed, describe_error, failure_kind
from stt_eval.pipeline.prepare import (
    PreparedAudio,
    Recording,
    StreamedAudio,
    WholeAudio,
    mean_snr,
    prepare,
    prepare_streams,
)
from stt_eval.pipeline.score import (
    Scored,
    Scoring,
    attribute_cuts,
    join_warnings,
    score_speakers,
    score_transcript,
    scored_row,
)
from stt_eval.pipeline.streaming import run_streaming_cell
from stt_eval.pipeline.transcribe import (
    _LOADS,
    EVENTS,
    Transcribed,
    diarize,
    on_padded_timeline,
    price,
    transcribe,
    transcribe_clip,
)
from stt_eval.providers.registry import get_provider
from stt_eval.rows import Measurement, Provenance, ResultRow
from stt_eval.types import Measured, Sample, SpeakerTurn, Transcript, UnitDone


def speaker_turns_of(transcript: Transcript) -> tuple[SpeakerTurn, ...]:
    """A provider's own diarization: its turns, else one turn per run of consecutive words of
    one speaker."""
    return merge_turns(transcript.turns) if transcript.turns else turns_from_words(transcript.words)


# --------------------------------------------------------------------------- one recording


@dataclass(frozen=True)
class RecordingJob:
    """One sample under one condition, with every cell to run on it (picklable for workers).

    The conditioned audio is made once and shared by every provider and diarizer of the job.
    """

    run_id: str
    sample: Sample
    condition: str
    cells: tuple[Cell, ...]
    scoring: Scoring
    seed: int = 0
    max_duration_s: float | None = None
    cache_root: str | None = None
    babble_paths: tuple[str, ...] = ()
    remote: bool = False
    digest: str = ""
    events: Any = field(default=None, compare=False, repr=False)
    """A queue for progress events (one :class:`~stt_eval.types.UnitDone` per window)."""

    def base_row(self, cell: Cell, audio_s: float = 0.0, snr_db: float | None = None) -> ResultRow:
        """A row of this job's sample and `cell`, with the engine, model and versions that make
        it (filled in before anything can fail, so a failure row names them too)."""
        engine = cell.provider.engine()
        return ResultRow(
            cell.identity(self.run_id, self.sample.id, self.scoring.normalizer),
            measurement=Measurement(audio_s=audio_s, snr_db=snr_db),
            provenance=Provenance(
                engine.name, engine.model, engine.version, __version__, self.digest
            ),
            reference=self.sample.text,
            meta=self.sample.meta,
        )

    def scored_row(
        self, cell: Cell, scored: Scored, measurement: Measurement, *warnings: str | None
    ) -> ResultRow:
        """The row of a scored cell: its groups, the scored counts and texts, and `warnings`
        (the audio's, then scoring's)."""
        return scored_row(replace(self.base_row(cell), measurement=measurement), scored, *warnings)


def _needs_whole(cells: Iterable[Cell]) -> bool:
    return any(
        c.chunking == "none" or c.diarizer not in ("none", "provider") or c.mode == "streaming"
        for c in cells
    )


Streams = tuple[tuple[str, WholeAudio], ...]
"""A ``split`` recording: each speaker's channel or track, conditioned on its own."""


def _prepare(job: RecordingJob, mode: str, cells: Iterable[Cell]) -> PreparedAudio | Streams:
    """The audio of one channel mode: the downmix (``mix``) or each channel apart (``split``)."""
    recording = Recording.of(job.sample, job.babble_paths)
    if mode == "mix":
        return prepare(
            recording,
            job.condition,
            job.seed,
            max_duration_s=job.max_duration_s,
            needs_whole=_needs_whole(cells),
        )
    if recording.span is not None:
        raise BadInput(
            f"sample {job.sample.id!r} is a slice (meta.offset_s/duration_s) and "
            "cannot be split by channel; give it its own files"
        )
    streams = read_streams(job.sample, job.max_duration_s)
    return prepare_streams(
        recording, streams, job.condition, job.seed, max_duration_s=job.max_duration_s
    )


def _diarizations(
    job: RecordingJob, audio: PreparedAudio, cache: TranscriptCache
) -> dict[str, tuple[tuple[SpeakerTurn, ...], float, bool] | Failed]:
    """Local diarizer turns of the conditioned clip, once per diarizer (shared by providers);
    a diarizer that fails maps to its failure reason."""
    out: dict[str, Any] = {}
    if job.sample.turns is None or not isinstance(audio, WholeAudio):
        return out
    for name in dict.fromkeys(c.diarizer for c in job.cells if c.channel_mode == "mix"):
        if name in ("none", "provider"):
            continue
        try:
            out[name] = diarize(get_diarizer(name), audio.clip, cache)
        except Exception as exc:  # noqa: BLE001 - becomes the failure reason of its cells
            out[name] = Failed(f"diarizer {name}: {describe_error(exc)}", failure_kind(exc))
    return out


def _on_unit(job: RecordingJob, cell: Cell) -> Any:
    """A progress callback: one UnitDone per transcribed window."""

    def on_unit(measured: Measured, cached: bool, audio_s: float) -> None:
        if job.events is not None:
            label, cost, busy = cell.provider.label, measured.cost_usd, measured.processing_s
            job.events.put(UnitDone(label, cached, measured.retries, cost, audio_s, busy))

    return on_unit


def _run_split_cell(
    job: RecordingJob, cell: Cell, streams: Streams, cache: TranscriptCache
) -> ResultRow:
    """Each channel transcribed on its own (same cache, chunking per channel), its words
    labelled with the channel's speaker and merged in global time; DER/JER and cpWER with
    speakers from channels, and the words leaked in from other channels (cross-talk)."""
    sample, scoring = job.sample, job.scoring
    provider = get_provider(cell.provider.name, **dict(cell.provider.options))
    options = cell.options(sample)
    results = [
        (
            speaker,
            transcribe(
                provider,
                audio,
                options,
                cache,
                cell.chunking,
                cell.merge,
                f"{sample.id}:{speaker}",
                _on_unit(job, cell),
            ),
        )
        for speaker, audio in streams
    ]
    pad = padding(cell.condition)
    sample = on_padded_timeline(sample, cell.condition)
    merged = merge_streams([(speaker, r.transcript) for speaker, r in results])
    duration = max(audio.duration_s for _, audio in streams)
    untimed = "a channel came back without word times: its text follows the others', untimed"
    warnings = [w for _, audio in streams for w in audio.warnings]
    scored = score_transcript(sample, merged, results[0][1].cuts, scoring, (0.0, duration), pad)
    if sample.turns is not None:
        scored = score_speakers(
            scored,
            sample,
            merged,
            turns_from_words(merged.words, TURN_GAP_S),
            scoring,
            labelled=True,
        )
        leaked = crosstalk_words(
            merged.words,
            sample.turns,
            sample.segments,
            collar=scoring.collar,
            normalizer=scoring.normalizer,
            language=sample.language,
        )
        scored = replace(scored, counts=scored.counts.set(crosstalk=CrosstalkCounts(leaked)))
    m = sum((r.measured for _, r in results), Measured())
    snr = mean_snr([r.snr_db for _, r in results])
    measurement = Measurement.of(m, duration, snr, all(r.cached for _, r in results), len(streams))
    return job.scored_row(
        cell, scored, measurement, *warnings, untimed if merged.raw["untimed"] else None
    )


def _run_cell(
    job: RecordingJob, cell: Cell, audio: PreparedAudio, cache: TranscriptCache, diarized: Mapping
) -> ResultRow:
    sample = job.sample
    provider = get_provider(cell.provider.name, **dict(cell.provider.options))
    options = cell.options(sample)
    warning = None
    if sample.audio_url and cell.condition == "clean" and cell.chunking == "none":
        options["audio_url"] = sample.audio_url  # the provider fetches the same recording
    elif sample.audio_url:
        warning = (
            "audio_url not used: the condition or chunking changes the audio, so it is uploaded"
        )

    result = transcribe(
        provider, audio, options, cache, cell.chunking, cell.merge, sample.id, _on_unit(job, cell)
    )
    sample = on_padded_timeline(sample, cell.condition)  # the audio heard: padding and all
    heard, pad = (0.0, audio.duration_s), padding(cell.condition)
    scored = score_transcript(sample, result.transcript, result.cuts, job.scoring, heard, pad)
    warnings = (*audio.warnings, warning)
    diarization_s, said = 0.0, None
    if cell.diarizer != "none" and sample.turns is not None:
        if cell.diarizer == "provider":
            turns = speaker_turns_of(result.transcript)
            if not turns:
                said = f"{cell.provider.label} returned no speakers; DER not scored"
        else:
            found = diarized[cell.diarizer]
            if isinstance(found, Failed):
                row = job.base_row(cell, audio.duration_s, result.snr_db)
                return replace(row, warning=join_warnings(*warnings)).failed(
                    found.reason, found.kind
                )
            turns, diarization_s, _ = found
        if said is None:
            scored = score_speakers(scored, sample, result.transcript, turns, job.scoring)
    measurement = Measurement.of(
        result.measured, audio.duration_s, result.snr_db, result.cached, 1, diarization_s
    )
    return job.scored_row(cell, scored, measurement, *warnings, said)


def run_recording(job: RecordingJob) -> list[ResultRow]:
    """Every cell of one sample under one condition; failures become rows, never exceptions."""
    cache = TranscriptCache(Path(job.cache_root) if job.cache_root else None)
    start = time.perf_counter()
    prepared: dict[str, PreparedAudio | Streams | Failed] = {}
    for mode in dict.fromkeys(c.channel_mode for c in job.cells):
        try:
            prepared[mode] = _prepare(job, mode, [c for c in job.cells if c.channel_mode == mode])
        except Exception as exc:  # noqa: BLE001 - unusable audio or condition fails its cells
            reason = describe_error(exc)
            if isinstance(exc, ConditionError):
                reason = f"condition {job.condition}: {reason}"
            prepared[mode] = Failed(reason, failure_kind(exc))
    condition_s = (time.perf_counter() - start) / len(job.cells)  # shared by the job's cells
    loads, events = _LOADS.set([]), EVENTS.set(job.events)
    mix = prepared.get("mix")
    diarized = (
        _diarizations(job, mix, cache) if isinstance(mix, (WholeAudio, StreamedAudio)) else {}
    )
    rows = []
    for cell in job.cells:
        audio = prepared[cell.channel_mode]
        if isinstance(audio, Failed):
            rows.append(job.base_row(cell).failed(audio.reason, audio.kind))
            continue
        try:
            if cell.mode == "streaming":
                rows.append(run_streaming_cell(job, cell, audio, cache, _on_unit(job, cell)))
            elif isinstance(audio, tuple):
                rows.append(_run_split_cell(job, cell, audio, cache))
            else:
                rows.append(_run_cell(job, cell, audio, cache, diarized))
        except Exception as exc:  # noqa: BLE001 - one failed cell never stops the others
            seconds = audio[0][1].duration_s if isinstance(audio, tuple) else audio.duration_s
            rows.append(job.base_row(cell, seconds).failed(describe_error(exc), failure_kind(exc)))
    load_s = sum(_LOADS.get() or ()) / len(job.cells)
    _LOADS.reset(loads)
    EVENTS.reset(events)
    rows = attribute_cuts(rows, job.scoring, job.sample.language)
    return [
        replace(r, measurement=replace(r.measurement, condition_s=condition_s, load_s=load_s))
        for r in rows
    ]


def conditioned_audio(
    recording: Recording, condition: str, seed: int, max_duration_s: float | None = None
) -> Conditioned:
    """The whole conditioned recording exactly as a run's engines hear it unchunked."""
    audio = prepare(recording, condition, seed, max_duration_s=max_duration_s, needs_whole=True)
    assert isinstance(audio, WholeAudio)  # needs_whole=True never streams
    return audio.conditioned


__all__ = [
    "Cell",
    "price",
    "RecordingJob",
    "Transcribed",
    "conditioned_audio",
    "diarize",
    "run_recording",
    "speaker_turns_of",
    "transcribe",
    "transcribe_clip",
]
