"""WER and boundary errors of chunked long-form transcription, per chunking × merge strategy.

Transcribes ``longform_en`` (199 s of real speech) with faster-whisper tiny.en (int8, beam 1,
2 threads) ``--seeds`` times per chunking setting, merges the windows with every strategy and
prints one table row per (setting, strategy). Whisper's temperature fallback samples, so a
single unseeded pass can move a row by 5 WER points; each pass is seeded (CTranslate2) and the
table shows the mean and range. Boundary errors are errors within ±1 s of a seam; the
unchunked row counts them at the 30 s / 2 s seams, as the floor to compare against.

    python benchmarks/chunking_table.py [--settings none 30s/0s 30s/2s ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from stt_eval.audio.load import AudioClip, load_audio
from stt_eval.audio.vad import speech_silences
from stt_eval.chunking import (
    cut_points,
    format_chunking,
    merge_chunks,
    parse_chunking,
    plan_chunks,
    plan_windows,
)
from stt_eval.datasets.manifest import load_manifest
from stt_eval.metrics.boundary import boundary_errors
from stt_eval.metrics.wer import score_text
from stt_eval.types import MERGE_STRATEGIES, Transcript

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "datasets" / "sample"
DEFAULT_SETTINGS = ("none", "30s/0s", "30s/1s", "30s/2s", "15s/2s", "30s/2s/vad")


def reference(sample_id: str = "longform_en") -> str:
    """A bundled sample's reference text."""
    samples = load_manifest(SAMPLE / "manifest.jsonl").samples
    return next(s.text for s in samples if s.id == sample_id)


def transcribe_seeded(clip: AudioClip, seed: int) -> Transcript:
    """The stt-eval provider (tiny.en, beam 1); seeds vary Whisper's temperature fallback."""
    from stt_eval.providers.registry import get_provider

    return get_provider("faster-whisper", seed=seed).transcribe(clip)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=list(DEFAULT_SETTINGS))
    ap.add_argument("--seeds", type=int, default=3, help="transcription repeats (default 3)")
    args = ap.parse_args()
    clip = load_audio(SAMPLE / "audio" / "longform_en.flac")
    ref = reference()
    ref_cuts = cut_points(plan_windows(clip.duration_s, 30.0, 2.0))
    print(
        f"longform_en: {clip.duration_s:.1f} s, tiny.en int8 beam 1, whisper normalizer, "
        f"seeds 0..{args.seeds - 1} (WER mean [min-max], S/D/I and boundary errors: means)"
    )
    print(
        f"{'chunking':<12} {'merge':<11} {'windows':>7} {'WER %':>7} {'[min-max]':>13} "
        f"{'S':>5} {'D':>5} {'I':>5} {'bound.err':>9} {'cuts':>4} {'s/pass':>6}"
    )
    for spec in args.settings:
        setting = parse_chunking(spec)
        windows = plan_chunks(
            setting,
            clip.duration_s,
            clip.slice,
            find_silences=speech_silences,
            sample_id="longform_en",
        )
        cuts = cut_points(windows) if setting.enabled else ref_cuts
        runs, elapsed = [], 0.0
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            runs.append(
                [(w, transcribe_seeded(clip.slice(w.offset_s, w.end_s), seed)) for w in windows]
            )
            elapsed += time.perf_counter() - t0
        for strategy in MERGE_STRATEGIES if setting.enabled else ("-",):
            rows = []
            for parts in runs:
                merged = parts[0][1] if not setting.enabled else merge_chunks(parts, strategy)
                score = score_text(ref, merged.text, "whisper")
                c = score.counts
                rows.append(
                    (c.wer, c.subs, c.dels, c.ins, boundary_errors(score, merged.words, cuts, 1.0))
                )
            mean = [sum(col) / len(rows) for col in zip(*rows, strict=True)]
            wers = [r[0] for r in rows]
            print(
                f"{format_chunking(setting):<12} {strategy:<11} {len(windows):>7} "
                f"{100 * mean[0]:>7.2f} {f'[{100 * min(wers):.1f}-{100 * max(wers):.1f}]':>13} "
                f"{mean[1]:>5.1f} {mean[2]:>5.1f} {mean[3]:>5.1f} {mean[4]:>9.1f} {len(cuts):>4} "
                f"{elapsed / len(runs):>6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
