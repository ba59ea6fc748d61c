"""Scoring speed and pipeline overhead, side by side with their anchors.

    python benchmarks/bench_pipeline.py [--utterances 10000] [--skip-run]

1. Scoring: raw ``jiwer.process_words`` vs ``stt-eval score`` (read JSONL, normalize with the
   whisper preset, align, pool) on synthetic utterances of ~20 words (~10 % word errors).
   DESIGN anchor: jiwer ≈ 2 µs per word.
2. Overhead: engine-only transcription of the quick sample (each file decoded once, each engine
   called directly) vs a full ``stt-eval run`` of the same cells (clean condition, no cache), as
   a ratio: what the pipeline adds (decoding, normalizing, scoring, writing rows, worker start).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all "
    "were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him"
).split()


def synthetic_corpus(n: int, seed: int = 0) -> tuple[dict[str, str], dict[str, str]]:
    rng = random.Random(seed)
    refs, hyps = {}, {}
    for i in range(n):
        ref = [rng.choice(WORDS) for _ in range(rng.randint(10, 30))]
        hyp = []
        for w in ref:
            r = rng.random()
            if r < 0.04:
                continue
            hyp.append(rng.choice(WORDS) if r < 0.08 else w)
            if rng.random() < 0.02:
                hyp.append(rng.choice(WORDS))
        refs[f"utt{i}"], hyps[f"utt{i}"] = " ".join(ref).capitalize() + ".", " ".join(hyp)
    return refs, hyps


def bench_scoring(n: int) -> None:
    refs, hyps = synthetic_corpus(n)
    n_words = sum(len(t.split()) for t in refs.values())
    with tempfile.TemporaryDirectory() as d:
        rp, hp = Path(d, "ref.jsonl"), Path(d, "hyp.jsonl")
        rp.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in refs.items()))
        hp.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in hyps.items()))

        t = time.perf_counter()
        raw = jiwer.process_words(
            [r.lower().rstrip(".") for r in refs.values()], list(hyps.values())
        )
        t_jiwer = time.perf_counter() - t

        from stt_eval.api import score_files

        t = time.perf_counter()
        ours = score_files(rp, hp, "whisper").total
        t_ours = time.perf_counter() - t

        t = time.perf_counter()
        ours_basic = score_files(rp, hp, "basic").total
        t_basic = time.perf_counter() - t

        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "stt_eval.cli", "score", str(rp), str(hp), "--json"],
            capture_output=True,
            check=True,
        )
        t_cli = time.perf_counter() - t
        cli_wer = json.loads(out.stdout)["total"]["wer"]

    print(f"\n== Scoring {n} utterances, {n_words} words ==")
    print(f"{'scorer':44s} {'seconds':>8s} {'µs/word':>8s} {'WER':>8s}")
    print(
        f"{'jiwer.process_words (raw, pre-lowercased)':44s} {t_jiwer:8.2f} {1e6 * t_jiwer / n_words:8.2f} {100 * raw.wer:7.2f}%"
    )
    print(
        f"{'stt-eval score_files (basic normalizer)':44s} {t_basic:8.2f} {1e6 * t_basic / n_words:8.2f} {100 * ours_basic.wer:7.2f}%"
    )
    print(
        f"{'stt-eval score_files (whisper normalizer)':44s} {t_ours:8.2f} {1e6 * t_ours / n_words:8.2f} {100 * ours.wer:7.2f}%"
    )
    print(
        f"{'stt-eval score CLI (process start + JSON)':44s} {t_cli:8.2f} {1e6 * t_cli / n_words:8.2f} {100 * cli_wer:7.2f}%"
    )
    print("anchor (DESIGN §13): jiwer ≈ 2 µs/word; sclite 20.7 s on 2 M words")


def bench_overhead() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from stt_eval.api import default_experiment
    from stt_eval.audio.load import load_audio
    from stt_eval.datasets.manifest import load_manifest
    from stt_eval.providers.registry import get_provider
    from stt_eval.run.grid import run_experiment, select_samples

    exp = default_experiment()
    samples = select_samples(load_manifest(exp.dataset).samples, exp)
    clips = [load_audio(s.audio_path) for s in samples]
    audio_s = sum(c.duration_s for c in clips)
    engine_s = 0.0
    for spec in exp.providers:
        provider = get_provider(spec.name)
        provider.transcribe(
            clips[0]
        )  # load the model outside the timing, as the run does per worker
        for clip in clips:
            t = time.perf_counter()
            provider.transcribe(clip)
            engine_s += time.perf_counter() - t
    from dataclasses import replace

    with tempfile.TemporaryDirectory() as d:
        for workers in (1, 2):
            run_exp = replace(
                exp,
                conditions=("clean",),
                diarizers=("none",),
                output=Path(d) / str(workers),
                workers=workers,
                name="bench",
            )
            t = time.perf_counter()
            result = run_experiment(run_exp, progress=False, cache_root=None)
            wall = time.perf_counter() - t
            measured = sum(r.measurement.processing_s for r in result.rows)
            print(
                f"\n== Pipeline overhead: {len(samples)} files, {audio_s:.1f} s of audio × {len(exp.providers)} engines, workers={workers} =="
            )
            print(f"{'what':44s} {'seconds':>8s}")
            print(f"{'engine-only transcribe (serial, warm models)':44s} {engine_s:8.2f}")
            print(f"{'engine time inside the run (sum of rows)':44s} {measured:8.2f}")
            print(f"{'full stt-eval run wall time':44s} {wall:8.2f}")
            print(f"{'ratio wall / engine-only':44s} {wall / engine_s:8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--utterances", type=int, default=10_000)
    ap.add_argument("--skip-run", action="store_true", help="only the scoring benchmark")
    args = ap.parse_args()
    bench_scoring(args.utterances)
    if not args.skip_run:
        bench_overhead()


if __name__ == "__main__":
    main()
