"""What chunking costs on the bundled long-form set under noise, and how much of it the cuts cause.

Runs ``datasets/longform`` (6 recordings, 14 min of real speech) through the real pipeline
(``run_experiment``: faster-whisper tiny.en int8 beam 1, timestamp merge) under white noise at
20 dB, once per noise seed (the experiment's ``seed`` draws the noise), for every chunk setting
beside the unchunked transcript. Per setting it prints the pooled WER (mean over seeds and a
95 % t-interval over the seeds), the paired difference from unchunked (same seed, same noise),
the cut-attributed errors per distance-from-cut band (``metrics.boundary``: errors the
unchunked transcript of the same recording did not make) and the engine seconds spent.

    python benchmarks/bench_chunking.py                         # 3 seeds, ~30-40 min on 2 cores
    python benchmarks/bench_chunking.py --seeds 1 --ids longform_05 --settings none 30s/2s

Measured 2026-12-06 (3 seeds, shared 2-core machine): unchunked 19.3 % [18.0, 20.6]; 15s/3s
+3.0 pt [2.3, 3.7] (446 cut-caused errors, 186 of them 2-5 s from a cut); 15s/3s/redecode
+2.1 [1.1, 3.1]; 15s/5s +1.9 [-0.7, 4.5]; 30s/2s +0.9 [-3.0, 4.7]; 30s/6s +0.5 [-2.9, 3.8];
30s/2s/redecode = 30s/2s (no 30 s window collapsed); 30s/2s/continue +1.0 [-3.6, 5.5].
"""

from __future__ import annotations

import argparse
import math
import runpy
import statistics
import tempfile
import time
from pathlib import Path

from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.metrics.boundary import BAND_LABELS
from stt_eval.run.grid import run_experiment

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "datasets" / "longform" / "manifest.jsonl"
CONDITION = "noise(kind=white, snr_db=20)"
SETTINGS = (
    "none",
    "15s/3s",
    "15s/3s/redecode",
    "15s/5s",
    "30s/2s",
    "30s/6s",
    "30s/2s/redecode",
    "30s/2s/continue",
)
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306}
"""Two-sided 95 % Student t quantiles by degrees of freedom (seeds - 1)."""


def interval(values: list[float]) -> str:
    """Mean and 95 % t-interval over seeds, in percent points ("n=1" for one seed)."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return f"{100 * mean:6.2f} (n=1)         "
    half = T95.get(len(values) - 1, 1.96) * statistics.stdev(values) / math.sqrt(len(values))
    return f"{100 * mean:6.2f} [{100 * (mean - half):5.2f}, {100 * (mean + half):5.2f}]"


def main() -> None:
    if not (MANIFEST.parent / "audio").is_dir():  # the set's audio is built, not committed
        runpy.run_path(str(MANIFEST.parent / "make_longform.py"), run_name="__main__")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="noise seeds 0..N-1 (default 3)")
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS))
    ap.add_argument("--ids", nargs="*", default=(), help="recordings (default: all six)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None, help="transcript cache (default: temp)")
    args = ap.parse_args()
    settings = list(dict.fromkeys(["none", *args.settings]))
    with tempfile.TemporaryDirectory(prefix="bench_chunking_") as tmp:
        cache = args.cache or Path(tmp) / "cache"
        by_seed: dict[int, dict[str, list]] = {}
        for seed in range(args.seeds):
            exp = Experiment(
                dataset=MANIFEST,
                ids=tuple(args.ids),
                providers=(ProviderSpec("faster-whisper"),),
                conditions=(CONDITION,),
                chunking=tuple(settings),
                seed=seed,
                workers=args.workers,
                output=Path(tmp) / "runs",
                name=f"seed{seed}",
            )
            t0 = time.perf_counter()
            rows = run_experiment(exp, progress=False, cache_root=cache).rows
            failed = [r for r in rows if r.status != "ok"]
            if failed:
                raise SystemExit(f"seed {seed}: {len(failed)} failed rows: {failed[0].error}")
            by_seed[seed] = {s: [r for r in rows if r.identity.chunking == s] for s in settings}
            print(f"seed {seed}: {len(rows)} rows in {time.perf_counter() - t0:.0f} s", flush=True)

    files = len(by_seed[0]["none"])
    print(
        f"\nlongform set ({files} recordings), {CONDITION}, faster-whisper tiny.en int8 beam 1, "
        f"timestamp merge, {args.seeds} noise seeds; WER pooled over recordings per seed, mean "
        "[95 % t-interval over seeds]; Δ = paired difference from unchunked (same seed); "
        "cut-attributed errors summed over seeds, by distance from the nearest cut"
    )
    print(
        f"{'chunking':<17} {'WER %':>22} {'Δ vs none, pt':>22} {'cut errors':>10} "
        + " ".join(f"{b:>6}" for b in BAND_LABELS)
        + f" {'engine s':>9}"
    )
    for s in settings:
        wer, delta, bands, busy = [], [], [0] * len(BAND_LABELS), 0.0
        for grid in by_seed.values():
            counts = sum(r.counts["words"] for r in grid[s])
            base = sum(r.counts["words"] for r in grid["none"])
            wer.append(counts.errors / counts.ref_words)
            delta.append(wer[-1] - base.errors / base.ref_words)
            for r in grid[s]:
                b = r.counts["boundary"]
                bands = [x + y for x, y in zip(bands, b.by_band if b else (0,) * 4, strict=True)]
            busy += sum(r.measurement.processing_s for r in grid[s]) / len(by_seed)
        shown_delta = "" if s == "none" else interval(delta)
        print(
            f"{s:<17} {interval(wer):>22} {shown_delta:>22} {sum(bands):>10} "
            + " ".join(f"{x:>6}" for x in bands)
            + f" {busy:>9.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
