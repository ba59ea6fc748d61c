"""What each ``stt-eval`` command prints: one API call (made through :func:`call`) and its
output as text or JSON."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import re
import sys
from collections.abc import Callable
from typing import Any

from stt_eval import api
from stt_eval.metrics.diarization import DERCounts
from stt_eval.normalization.rules import check_preset


def call(func: Callable[..., Any], args: argparse.Namespace) -> Any:
    """Call an API function with the parsed flags of the same names: the projection itself."""
    return func(**{name: getattr(args, name) for name in inspect.signature(func).parameters})


TERMINAL_SECTIONS = ("Verdict", "Pooled WER", "Diarization", "Warnings")
"""The summary's sections a finished run prints in the terminal (their tables and lists only)."""


def terminal_summary(markdown: str) -> str:
    """The pooled tables of a run's Markdown summary, without their prose: what a finished run
    shows in the terminal (the whole summary is in the file)."""
    out = []
    for section in re.split(r"\n#{2,3} ", markdown)[1:]:  # sections sit in groups, a level down
        heading, _, body = section.partition("\n")
        if heading.startswith(TERMINAL_SECTIONS):
            shown = [ln for ln in body.splitlines() if ln.startswith(("|", "- "))]
            out += [f"{heading}:", *shown, ""] if shown else []  # a group's own heading: none
    return "\n".join(out)


def cmd_run(args: argparse.Namespace) -> int:
    from stt_eval.run.directory import REPORT_HTML, REPORT_MD, SUMMARY_FILE

    result = call(api.run, args)  # manifest problems were warned about before the run
    summary = (result.run_dir / SUMMARY_FILE).read_text(encoding="utf-8")
    print(summary if args.verbose else terminal_summary(summary))
    print(
        f"report: {result.run_dir / REPORT_HTML} (whole summary: {result.run_dir / SUMMARY_FILE}; "
        f"also rows.jsonl, results.parquet, {REPORT_MD}, exports/)",
        file=sys.stderr,
    )
    summary = result.run_dir / SUMMARY_FILE
    if result.warned:
        print(
            f"stt-eval: {result.warned} of {len(result.rows)} cells carry a warning; read them "
            f"under Warnings in {summary}",
            file=sys.stderr,
        )
    if result.failed:
        kept = sum(r.status == "failed" for r in result.resumed.kept) if result.resumed else 0
        earlier = f" ({kept} kept from earlier runs: --retry-failed sends them again)"
        print(
            f"stt-eval: {result.failed} of {len(result.rows)} cells failed"
            f"{earlier if kept else ''}; their reasons are under Failures in {summary}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from stt_eval.report.alignment import pralign_lines

    score = call(api.score_files, args)
    total = score.total
    args.normalizer = check_preset(args.normalizer)  # as results record it
    if args.json:
        print(
            json.dumps(
                {"normalizer": args.normalizer, **score.as_dict()}, indent=2, allow_nan=False
            )
        )
    else:
        for uid, aligned in score.alignments.items():
            print("\n".join(pralign_lines(uid, aligned)))
        cer = f", CER {100 * score.total_chars.cer:.2f} %" if args.cer else ""
        print(
            f"WER {100 * total.wer:.2f} %  (S={total.subs} D={total.dels} I={total.ins} "
            f"N={total.ref_words}, {len(score.per_utterance)} utterances, "
            f"normalizer {args.normalizer}){cer}"
        )
        for value, c in score.groups.items():
            print(
                f"  {score.by}={value}: WER {100 * c.wer:.2f} %  (S={c.subs} D={c.dels} "
                f"I={c.ins} N={c.ref_words})"
            )
    for ids, what in (
        (score.missing_hypotheses, "has no hypothesis (scored as all deletions)"),
        (score.missing_references, "is a hypothesis with no reference (not scored)"),
        (
            score.empty_references,
            f"has a reference with no words after normalization ({args.normalizer}; not scored)",
        ),
    ):
        for uid in ids:
            print(f"warning: id {uid!r} {what}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    manifest = call(api.import_dataset, args)
    for problem in manifest.problems:
        print(f"warning: not imported: {problem}", file=sys.stderr)
    print(
        f"wrote {args.output}: {len(manifest.samples)} samples ({len(manifest.problems)} rows "
        "left out)"
    )
    return 0


def cmd_align(args: argparse.Namespace) -> int:
    print(f"wrote {call(api.align_manifest, args)} (and its ctm/ folder)")
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from stt_eval.diarizers import render_transcript

    out = call(api.transcribe_file, args)
    t = out.transcript
    if args.json:
        words = [
            {
                "text": w.text,
                "start": round(w.start, 3),
                "end": round(w.end, 3),
                "confidence": w.confidence,
                "speaker": w.speaker,
            }
            for w in t.words
        ]
        doc = {
            "text": t.text,
            "language": t.language,
            "words": words,
            "cuts": list(out.cuts),
            "snr_db": out.snr_db,
            "processing_s": out.measured.processing_s,
            "latency_s": out.measured.latency_s,
            "attempts": out.measured.attempts,
            "retries": out.measured.retries,
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


def cmd_der(args: argparse.Namespace) -> int:
    scores = call(api.score_diarization_files, args)
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


def cmd_preview(args: argparse.Namespace) -> int:
    out = call(api.preview_condition, args)
    snr = (
        "no noise added"
        if out.snr_db is None
        else f"achieved SNR {out.snr_db:.2f} dB (active speech vs added noise)"
    )
    print(f"wrote {args.output}: {out.clip.duration_s:.2f} s, 16 kHz mono 16-bit; {snr}")
    return 0


def cmd_conditions_list(args: argparse.Namespace) -> int:
    for name, c in api.list_conditions().items():
        print(f"{name:10s} {c['summary']}")
        for pname, p in c["params"].items():
            default = "required" if p["required"] else f"default {p['default']}"
            print(f"    {pname:10s} {p['allowed']} ({default})")
    print('\nchain them with "+", e.g. "telephony(codec=ulaw) + noise(snr_db=5, kind=pink)"')
    return 0


def cmd_providers(args: argparse.Namespace) -> int:
    for name, options in api.list_providers().items():
        print(name)
        for key, value in options.items():
            print(f"    {key} = {value!r}")
    print("\nset options in an experiment ({ name = ..., model = ... }) or with --option KEY=VALUE")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    func = {"info": api.cache_info, "verify": api.verify_cache, "prune": api.prune_cache}
    report = call(func[args.cache_command], args)
    print("\n".join(report.describe()))
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    runs = call(api.list_runs, args)
    for info in runs:
        print(info.describe())
    if not runs:
        print(f"no runs in {args.output}/ yet: stt-eval run")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from stt_eval.report.compare import compare_markdown

    table = call(api.compare_runs, args)
    if args.json:
        lines = json.loads(table.to_json(orient="records"))  # NaN as null
        print(json.dumps({**table.attrs, "lines": lines}, indent=2, ensure_ascii=False))
    else:
        print(compare_markdown(table))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    for path in call(api.report, args):
        print(f"wrote {path}")
    return 0
