"""Scoring time on one synthetic corpus: raw jiwer, ``stt-eval score`` (basic and whisper
normalizers) and ``sctk sclite``, side by side in one run.

Utterances of 10-30 words drawn from a 5,000-word vocabulary (plus numbers and a few fillers),
references capitalised and punctuated; hypotheses are the references with ~10 % of words
substituted, deleted or inserted, lower-cased and unpunctuated, as an engine writes them.
The CLI runs as a user runs it (a subprocess, imports included; its start-up alone is a row).
Counts must agree: the basic-normalized stt-eval errors equal raw jiwer's on the same
lower-cased texts. Wall and CPU seconds are both printed: on a shared machine the wall time of
one run is noisy, the CPU time less so (the CPU time of two worker processes adds up).

    python benchmarks/bench_score.py [--words 200000] [--workers 2] [--seed 0]

--words 2000000 reproduces the issue's 2 M-word figure (sclite alone then takes ~20 s).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jiwer

NUMBERS = ["one", "two", "three", "ten", "twenty", "thirty", "hundred", "first", "second"]
FILLERS = ["uh", "um"]


def _vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(size)}
    return sorted(vocab) + NUMBERS + FILLERS


def corpus(words: int, seed: int) -> tuple[dict[str, str], dict[str, str]]:
    """{id: reference}, {id: hypothesis} with about ``words`` reference words."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    refs, hyps, n, i = {}, {}, 0, 0
    while n < words:
        ref = [rng.choice(vocab) for _ in range(rng.randint(10, 30))]
        hyp = []
        for w in ref:
            r = rng.random()
            if r < 0.04:
                hyp.append(rng.choice(vocab))
            elif r < 0.07:
                continue
            else:
                hyp.append(w)
            if rng.random() < 0.03:
                hyp.append(rng.choice(vocab))
        uid = f"spk{i % 50:02d}_utt{i:07d}"
        text = " ".join(ref)
        refs[uid] = text[0].upper() + text[1:].replace(" ", ", ", 1) + "."
        hyps[uid] = " ".join(hyp)
        n += len(ref)
        i += 1
    return refs, hyps


def _timed(func) -> tuple[float, float, object]:
    """Wall seconds, CPU seconds (this process and its finished children) and the result."""
    t0, c0 = time.perf_counter(), _cpu()
    out = func()
    return time.perf_counter() - t0, _cpu() - c0, out


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=200_000, help="reference words (default 200k)")
    ap.add_argument("--workers", type=int, default=2, help="stt-eval score --workers")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    refs, hyps = corpus(args.words, args.seed)
    n_words = sum(len(t.split()) for t in refs.values())
    tmp = Path(tempfile.mkdtemp(prefix="bench_score_"))
    for name, texts in (("ref.trn", refs), ("hyp.trn", hyps)):
        (tmp / name).write_text("".join(f"{t} ({u})\n" for u, t in texts.items()))
    lower = {u: " ".join(re.sub(r"[^\w\s']", " ", t.lower()).split()) for u, t in refs.items()}
    (tmp / "ref_lower.trn").write_text("".join(f"{t} ({u})\n" for u, t in lower.items()))
    print(f"{len(refs)} utterances, {n_words} reference words, in {tmp}")

    rows = []
    ids = list(refs)
    t, cpu, out = _timed(
        lambda: jiwer.process_words([lower[u] for u in ids], [hyps[u] for u in ids])
    )
    rows.append(("raw jiwer (process_words, pre-lowered)", t, cpu, _errors(out)))
    cli = [sys.executable, "-m", "stt_eval.cli"]
    t, cpu, _ = _timed(lambda: subprocess.run([*cli, "--version"], capture_output=True))
    rows.append(("stt-eval --version (CLI start-up)", t, cpu, ""))
    runs = [(n, w, "") for n in ("basic", "whisper") for w in sorted({1, args.workers})]
    for normalizer, workers, extra in [*runs, ("whisper", args.workers, "--json")]:
        cmd = [
            *cli,
            "score",
            str(tmp / "ref.trn"),
            str(tmp / "hyp.trn"),
            "--normalizer",
            normalizer,
            "--workers",
            str(workers),
            *([extra] if extra else []),
        ]
        t, cpu, proc = _timed(lambda cmd=cmd: subprocess.run(cmd, capture_output=True, text=True))
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return 1
        if extra:
            errors = json.loads(proc.stdout)["total"]["errors"]
        else:  # the summary line a user reads: WER x %  (S=… D=… I=… N=…
            s, d, i = re.search(r"S=(\d+) D=(\d+) I=(\d+)", proc.stdout).groups()
            errors = int(s) + int(d) + int(i)
        name = f"stt-eval score --normalizer {normalizer} --workers {workers} {extra}"
        rows.append((name.rstrip(), t, cpu, errors))
    if shutil.which("sctk"):
        cmd = [
            "sctk",
            "sclite",
            "-r",
            "ref_lower.trn",
            "trn",
            "-h",
            "hyp.trn",
            "trn",
            "-i",
            "rm",
            "-o",
            "rsum",
            "stdout",
        ]
        t, cpu, proc = _timed(lambda: subprocess.run(cmd, cwd=tmp, capture_output=True, text=True))
        m = re.search(r"Sum\s*\|\s*\d+\s+\d+\s*\|\s*\d+\s+\d+\s+\d+\s+\d+\s+(\d+)", proc.stdout)
        rows.append(("sctk sclite (trn, pre-lowered)", t, cpu, int(m.group(1)) if m else "?"))
    else:
        rows.append(("sctk sclite", float("nan"), float("nan"), "not installed"))
    print(f"{'scorer':56s} {'wall s':>7s} {'CPU s':>7s} {'µs/word':>8s}  errors")
    for name, t, cpu, errors in rows:
        print(f"{name:56s} {t:7.2f} {cpu:7.2f} {1e6 * t / n_words:8.2f}  {errors}")
    best = {
        k: min(r[1] for r in rows if k in r[0] and "json" not in r[0]) for k in ("basic", "whisper")
    }
    print(
        f"\nfastest basic CLI / raw jiwer: {best['basic'] / rows[0][1]:.1f}x (wall); "
        f"sclite / fastest whisper CLI: {rows[-1][1] / best['whisper']:.1f}x (wall)"
    )
    return 0


def _errors(out) -> int:
    return out.substitutions + out.deletions + out.insertions


if __name__ == "__main__":
    sys.exit(main())
