"""One recording through the pipeline: prepare → plan windows → transcribe (cached) → merge →
diarize → score.

:func:`run_recording` is the only per-recording path of a run; ``api.transcribe_file`` goes
through the same stages (:func:`~stt_eval.prepared.prepare`, :func:`transcribe`,
:func:`diarize`). The runner only plans jobs and decides which worker runs them.

Exception policy: anything one recording can raise becomes a failure row with its reason, and
the run carries on. Our own errors (bad audio, a provider's refusal, a condition that cannot
run) are expected and need no traceback; anything else is a bug in stt-eval, so its traceback
also goes to the ``stt_eval`` log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stt_eval import __version__
from stt_eval.audio import AudioClip
from stt_eval.cache import TranscriptCache, cache_key
from stt_eval.chunking import cut_points, merge_chunks, parse_chunking
from stt_eval.conditions import Conditioned, ConditionError
from stt_eval.costs import Price, cost_usd, price_of
from stt_eval.diarizers import get_diarizer
from stt_eval.experiment import ProviderSpec
from stt_eval.http import metered
from stt_eval.intervals import merge_turns
from stt_eval.prepared import PreparedAudio, Recording, WholeAudio, mean_snr, prepare
from stt_eval.progress import UnitDone
from stt_eval.providers.base import Provider
from stt_eval.providers.registry import get_provider
from stt_eval.scoring import Scoring, failure_row, join_warnings, score_row, score_speakers
from stt_eval.types import Chunk, Measured, ResultRow, Sample, SpeakerTurn, Transcript

log = logging.getLogger("stt_eval")


@dataclass(frozen=True)
class Transcribed:
    """A (possibly chunked and merged) transcript, where the cuts were, what it cost, whether
    all of it came from the cache, and the achieved SNR of the audio (None: no noise added)."""

    transcript: Transcript
    cuts: tuple[float, ...] = ()
    measured: Measured = Measured()
    cached: bool = False
    snr_db: float | None = None


def price(provider: Provider) -> Price | None:
    """A provider's list price per audio minute (its override, else the price table)."""
    return price_of(
        provider.name, getattr(provider, "model", None), getattr(provider, "price_per_minute", None)
    )


_LOADS: ContextVar[list[float] | None] = ContextVar("stt_eval_model_loads", default=None)
"""Seconds spent loading models inside the current job (see :func:`run_recording`)."""


def _timed_load(component: Any) -> None:
    """Load a provider's or diarizer's model (once per process; later calls are free) and add
    the time it took to the running job's load time."""
    start = time.perf_counter()
    component.load()
    loads = _LOADS.get()
    if loads is not None:
        loads.append(time.perf_counter() - start)


def transcribe_clip(
    provider: Provider, clip: AudioClip, options: Mapping[str, Any], cache: TranscriptCache
) -> tuple[Transcript, Measured, bool]:
    """One transcription, through the content-addressed cache.

    Returns the transcript, what it cost when it was made (a cache hit keeps the measured time
    and price, so a resumed run reports what the work cost) and whether it was a hit.
    """
    key = cache_key(clip.to_wav_bytes(), provider.cache_identity(), options)
    hit = cache.get(key)
    if hit is not None:
        return hit.transcript, hit.measured, True
    _timed_load(provider)
    with metered() as meter:
        start = time.perf_counter()
        transcript = provider.transcribe(clip, options)
        elapsed = time.perf_counter() - start
    remote = meter.requests > 0
    measured = Measured(
        processing_s=elapsed,
        latency_s=meter.latency_s if remote else elapsed,
        attempts=1 + (meter.attempts - meter.requests if remote else 0),
        cost_usd=cost_usd(price(provider), clip.duration_s),
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
    on_unit: Callable[[Measured, bool], None] | None = None,
) -> Transcribed:
    """Transcribe prepared audio whole, or window by window merged back in global time;
    `on_unit(measured, cached)` is called after each window (for progress)."""
    setting = parse_chunking(chunking)
    report = on_unit or (lambda measured, cached: None)
    if not setting.enabled:
        if not isinstance(audio, WholeAudio):
            raise ValueError("an unchunked transcription needs the whole recording in memory")
        t, measured, cached = transcribe_clip(provider, audio.clip, options, cache)
        report(measured, cached)
        return Transcribed(t, (), measured, cached, audio.conditioned.snr_db)
    windows = audio.plan(setting, sample_id)
    parts: list[tuple[Chunk, Transcript]] = []
    snrs: list[float | None] = []
    total, all_cached = Measured(), True
    for window, conditioned in audio.windows(windows):
        t, measured, cached = transcribe_clip(provider, conditioned.clip, options, cache)
        report(measured, cached)
        parts.append((window, t))
        snrs.append(conditioned.snr_db)
        total += measured
        all_cached &= cached
    merged = merge_chunks(parts, merge)
    return Transcribed(merged, cut_points(windows), total, all_cached, mean_snr(snrs))


def diarize(
    diarizer: Any, clip: AudioClip, cache: TranscriptCache
) -> tuple[tuple[SpeakerTurn, ...], float, bool]:
    """Speaker turns of a clip from a local diarizer, through the same content-addressed cache."""
    key = cache_key(clip.to_wav_bytes(), diarizer.cache_identity(), {"task": "diarize"})
    hit = cache.get(key)
    if hit is not None:
        return hit.transcript.turns, hit.measured.processing_s, True
    _timed_load(diarizer)
    start = time.perf_counter()
    turns = tuple(diarizer.diarize(clip))
    elapsed = time.perf_counter() - start
    cache.put(key, Transcript(text="", turns=turns), Measured(elapsed, elapsed, 1, 0.0))
    return turns, elapsed, False


def speaker_turns_of(transcript: Transcript) -> tuple[SpeakerTurn, ...]:
    """A provider's own diarization: its turns, else one turn per run of consecutive words of
    one speaker (from the run's first start to its last end)."""
    if transcript.turns:
        return merge_turns(transcript.turns)
    runs: list[SpeakerTurn] = []
    for w in transcript.words:
        if w.speaker is None:
            continue
        if runs and runs[-1].speaker == w.speaker:
            runs[-1] = SpeakerTurn(w.speaker, runs[-1].start, max(runs[-1].end, w.end))
        else:
            runs.append(SpeakerTurn(w.speaker, w.start, max(w.end, w.start + 1e-3)))
    return merge_turns(runs)


# --------------------------------------------------------------------------- one recording


@dataclass(frozen=True)
class Cell:
    """One provider × condition × chunking × merge × diarizer combination of the grid."""

    provider: ProviderSpec
    condition: str
    chunking: str
    merge: str
    diarizer: str

    def key(self, sample_id: str) -> tuple[str, ...]:
        """The identity of this cell for one sample (what resume matches finished rows on)."""
        return (
            sample_id,
            self.provider.label,
            self.condition,
            self.chunking,
            self.merge,
            self.diarizer,
        )


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
    """A queue for progress events (one :class:`~stt_eval.progress.UnitDone` per window)."""

    def base_row(self, cell: Cell, audio_s: float = 0.0, snr_db: float | None = None) -> ResultRow:
        """A row of this job's sample and `cell`, with the engine, model and versions that make
        it (filled in before anything can fail, so a failure row names them too)."""
        s = self.sample
        engine = cell.provider.engine()
        return ResultRow(
            run_id=self.run_id, sample_id=s.id, provider=cell.provider.label,
            condition=cell.condition, chunking=cell.chunking, merge=cell.merge,
            diarizer=cell.diarizer, normalizer=self.scoring.normalizer, audio_s=audio_s,
            snr_db=snr_db, reference=s.text, meta=s.meta, sample_digest=self.digest,
            engine=engine.name, model=engine.model, engine_version=engine.version,
            stt_eval_version=__version__,
        )  # fmt: skip


def describe_error(exc: BaseException) -> str:
    """A failure row's reason. Our own errors carry the file and the fix; anything else is a bug
    in stt-eval, so its traceback is logged as well."""
    if isinstance(exc, OSError) or type(exc).__module__.startswith("stt_eval."):
        return str(exc) if str(exc) else type(exc).__name__
    log.error("internal error (please report it): %s", exc, exc_info=exc)
    return f"internal error in stt-eval: {type(exc).__name__}: {exc} (traceback in the log)"


def _needs_whole(cells: Iterable[Cell]) -> bool:
    return any(c.chunking == "none" or c.diarizer not in ("none", "provider") for c in cells)


def _diarizations(
    job: RecordingJob, audio: PreparedAudio, cache: TranscriptCache
) -> dict[str, tuple[tuple[SpeakerTurn, ...], float, bool] | str]:
    """Local diarizer turns of the conditioned clip, once per diarizer (shared by providers);
    a diarizer that fails maps to its failure reason."""
    out: dict[str, Any] = {}
    if job.sample.turns is None or not isinstance(audio, WholeAudio):
        return out
    for name in dict.fromkeys(c.diarizer for c in job.cells):
        if name in ("none", "provider"):
            continue
        try:
            out[name] = diarize(get_diarizer(name), audio.clip, cache)
        except Exception as exc:  # noqa: BLE001 - becomes the failure reason of its cells
            out[name] = f"diarizer {name}: {describe_error(exc)}"
    return out


def _run_cell(
    job: RecordingJob, cell: Cell, audio: PreparedAudio, cache: TranscriptCache, diarized: Mapping
) -> ResultRow:
    sample = job.sample
    provider = get_provider(cell.provider.name, **dict(cell.provider.options))
    options: dict[str, Any] = {"language": sample.language}
    warning = None
    if sample.audio_url and cell.condition == "clean" and cell.chunking == "none":
        options["audio_url"] = sample.audio_url  # the provider fetches the same recording
    elif sample.audio_url:
        warning = (
            "audio_url not used: the condition or chunking changes the audio, so it is uploaded"
        )

    def on_unit(measured: Measured, cached: bool) -> None:
        if job.events is not None:
            job.events.put(
                UnitDone(cell.provider.label, cached, measured.attempts, measured.cost_usd)
            )

    result = transcribe(
        provider, audio, options, cache, cell.chunking, cell.merge, sample.id, on_unit
    )
    base = job.base_row(cell, audio.duration_s, result.snr_db)
    base = replace(base, warning=join_warnings(*audio.warnings, warning))
    row = score_row(base, sample, result.transcript, result.cuts, job.scoring)
    m = result.measured
    row = replace(
        row, processing_s=m.processing_s, latency_s=m.latency_s, attempts=m.attempts,
        rtfx=audio.duration_s / m.latency_s if m.latency_s > 0 else None, cost_usd=m.cost_usd,
        cached=result.cached,
    )  # fmt: skip
    if cell.diarizer == "none" or sample.turns is None:
        return row
    if cell.diarizer == "provider":
        turns, secs = speaker_turns_of(result.transcript), 0.0
        if not turns:
            said = f"{cell.provider.label} returned no speakers; DER not scored"
            return replace(row, warning=join_warnings(row.warning, said))
    else:
        found = diarized[cell.diarizer]
        if isinstance(found, str):
            return failure_row(base, found)
        turns, secs, _ = found
    row = score_speakers(row, sample, result.transcript, turns, job.scoring)
    return replace(row, diarization_s=secs)


def run_recording(job: RecordingJob) -> list[ResultRow]:
    """Every cell of one sample under one condition; failures become rows, never exceptions."""
    cache = TranscriptCache(Path(job.cache_root) if job.cache_root else None)
    start = time.perf_counter()
    try:
        audio = prepare(
            Recording.of(job.sample, job.babble_paths), job.condition, job.seed,
            max_duration_s=job.max_duration_s, needs_whole=_needs_whole(job.cells),
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - unusable audio or condition fails its cells
        reason = describe_error(exc)
        if isinstance(exc, ConditionError):
            reason = f"condition {job.condition}: {reason}"
        return [failure_row(job.base_row(c), reason) for c in job.cells]
    condition_s = (time.perf_counter() - start) / len(job.cells)  # shared by the job's cells
    loads = _LOADS.set([])
    diarized = _diarizations(job, audio, cache)
    rows = []
    for cell in job.cells:
        try:
            rows.append(_run_cell(job, cell, audio, cache, diarized))
        except Exception as exc:  # noqa: BLE001 - one failed cell never stops the others
            rows.append(failure_row(job.base_row(cell, audio.duration_s), describe_error(exc)))
    load_s = sum(_LOADS.get() or ()) / len(job.cells)
    _LOADS.reset(loads)
    return [replace(r, condition_s=condition_s, load_s=load_s) for r in rows]


def conditioned_audio(
    recording: Recording, condition: str, seed: int, max_duration_s: float | None = None
) -> Conditioned:
    """The whole conditioned recording exactly as a run's engines hear it unchunked."""
    audio = prepare(recording, condition, seed, max_duration_s=max_duration_s, needs_whole=True)
    assert isinstance(audio, WholeAudio)  # needs_whole=True never streams
    return audio.conditioned


__all__ = [
    "Cell",
    "RecordingJob",
    "Transcribed",
    "conditioned_audio",
    "diarize",
    "run_recording",
    "speaker_turns_of",
    "transcribe",
    "transcribe_clip",
]
