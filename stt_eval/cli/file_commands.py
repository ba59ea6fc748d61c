"""The commands that work on files made elsewhere rather than on a run: score transcripts,
score diarization, import a dataset, align references, preview and list conditions."""

from __future__ import annotations

import argparse

from stt_eval import api
from stt_eval.cli import commands
from stt_eval.cli.projection import defaults_of, flag
from stt_eval.datasets.importers import FORMATS
from stt_eval.normalization.rules import PRESETS, STEPS


def add_score(sub: argparse._SubParsersAction) -> None:
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


def add_import(sub: argparse._SubParsersAction) -> None:
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


def add_der(sub: argparse._SubParsersAction) -> None:
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


def add_conditions(sub: argparse._SubParsersAction) -> None:
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


def add_align(sub: argparse._SubParsersAction) -> None:
    text = "reference word times (ctm/<id>.ctm and a manifest with ctm), by forced alignment"
    p = sub.add_parser("align", help=text, description=text[0].upper() + text[1:] + ".")
    p.add_argument("manifest", metavar="MANIFEST", help="a .jsonl or .csv manifest")
    flag(p, "--output", defaults_of(api.align_manifest), "default: MANIFEST.aligned.jsonl")
    p.set_defaults(func=commands.cmd_align)
