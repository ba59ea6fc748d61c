"""Scoring time on synthetic corpora of 20 k, 200 k and 2 M words, side by side in one run: sctk
sclite, raw jiwer, ``stt-eval score --normalizer basic`` and ``stt-eval score`` (whisper).

Utterances of 10-30 words drawn from a 5,000-word vocabulary (plus numbers and a few fillers),
references capitalised and punctuated; hypotheses are the references with ~10 % of words
substituted, deleted or inserted, lower-cased and unpunctuated, as an engine writes them.
sclite and raw jiwer get references lower-cased and unpunctuated beforehand (they do not
normalize); the CLI runs as a user runs it (a process, start-up included). Totals must agree:
sclite's, raw jiwer's and basic-normalized stt-eval's errors are the same number. Target
(issue 25): ``stt-eval score`` (whisper) at least 3x faster than sclite at 200 k and 2 M words.

    python benchmarks/bench_score.py [--words 20000 200000 2000000] [--workers 1] [--runs 3]
"""

from __future__ import annotations

import argparse
import math
import random
import re
import resource
import shutil
import statistics
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


RUNS = [3]
"""Each scorer runs this many times; the table shows the median (set by --runs)."""


def _timed(func) -> tuple[float, float, object]:
    """Median wall seconds, median CPU seconds (this process and its finished children) and the
    result, over RUNS runs (one run is at the mercy of whatever else the cores are doing)."""
    walls, cpus = [], []
    for _ in range(RUNS[0]):
        t0, c0 = time.perf_counter(), _cpu()
        out = func()
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _sclite(tmp: Path) -> tuple[float, float, int | str]:
    cmd = ["sctk", "sclite", "-r", "ref_lower.trn", "trn", "-h", "hyp.trn", "trn"]
    cmd += ["-i", "rm", "-o", "rsum", "stdout"]
    t, cpu, proc = _timed(lambda: subprocess.run(cmd, cwd=tmp, capture_output=True, text=True))
    m = re.search(r"Sum\s*\|\s*\d+\s+\d+\s*\|\s*\d+\s+\d+\s+\d+\s+\d+\s+(\d+)", proc.stdout)
    return t, cpu, int(m.group(1)) if m else "?"


def _cli(tmp: Path, normalizer: str, workers: int) -> tuple[float, float, int]:
    cmd = [
        sys.executable,
        "-m",
        "stt_eval.cli",
        "score",
        str(tmp / "ref.trn"),
        str(tmp / "hyp.trn"),
    ]
    cmd += ["--normalizer", normalizer, "--workers", str(workers)]
    t, cpu, proc = _timed(lambda: subprocess.run(cmd, capture_output=True, text=True))
    if proc.returncode:
        sys.exit(proc.stderr)
    # the summary line a user reads: WER x %  (S=… D=… I=… N=…
    s, d, i = re.search(r"S=(\d+) D=(\d+) I=(\d+)", proc.stdout).groups()
    return t, cpu, int(s) + int(d) + int(i)


def measure(words: int, seed: int, workers: int) -> tuple[int, dict[str, tuple]]:
    """Reference words and {scorer: (wall s, CPU s, errors)} on one corpus."""
    refs, hyps = corpus(words, seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench_score_"))
    for name, texts in (("ref.trn", refs), ("hyp.trn", hyps)):
        (tmp / name).write_text("".join(f"{t} ({u})\n" for u, t in texts.items()))
    lower = {u: " ".join(re.sub(r"[^\w\s']", " ", t.lower()).split()) for u, t in refs.items()}
    (tmp / "ref_lower.trn").write_text("".join(f"{t} ({u})\n" for u, t in lower.items()))
    ids = list(refs)
    rows: dict[str, tuple] = {}
    rows["sctk sclite"] = _sclite(tmp) if shutil.which("sctk") else (math.nan, math.nan, "-")
    t, cpu, out = _timed(
        lambda: jiwer.process_words([lower[u] for u in ids], [hyps[u] for u in ids])
    )
    rows["raw jiwer (process_words)"] = (t, cpu, _errors(out))
    for normalizer in ("basic", "whisper"):
        for w in sorted({1, workers}):
            rows[f"stt-eval score --normalizer {normalizer} --workers {w}"] = _cli(
                tmp, normalizer, w
            )
    shutil.rmtree(tmp)
    return sum(len(t.split()) for t in refs.values()), rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, nargs="+", default=[20_000, 200_000, 2_000_000])
    ap.add_argument("--workers", type=int, default=1, help="also stt-eval score --workers N")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3, help="runs of each scorer (median shown)")
    args = ap.parse_args()
    RUNS[0] = args.runs
    results = [measure(words, args.seed, args.workers) for words in args.words]
    names = list(results[0][1])
    print(
        f"median of {args.runs} runs: wall seconds (CPU seconds); errors; "
        f"{', '.join(f'{n:,} words' for n, _ in results)}"
    )
    print(f"{'scorer':48s}" + "".join(f" {f'{n // 1000:,} k words':>26s}" for n, _ in results))
    for name in names:
        cells = [f"{r[name][0]:6.2f} ({r[name][1]:6.2f}) {r[name][2]!s:>9}" for _, r in results]
        print(f"{name:48s}" + "".join(f" {c:>26s}" for c in cells))
    ok = True
    for n, r in results:
        fastest = {k: min(v[0] for name, v in r.items() if k in name) for k in ("basic", "whisper")}
        cpu = min(v[1] for name, v in r.items() if "whisper" in name)
        same = len({r[k][2] for k in names if "whisper" not in k} - {"-"}) == 1
        ok &= same
        print(
            f"{n:>9,} words: sclite / stt-eval whisper {r['sctk sclite'][0] / fastest['whisper']:5.1f}x"
            f" wall, {r['sctk sclite'][1] / cpu:5.1f}x CPU;"
            f" stt-eval basic / raw jiwer {fastest['basic'] / r['raw jiwer (process_words)'][0]:5.1f}x;"
            f" sclite, jiwer and basic errors {'agree' if same else 'DISAGREE'}"
        )
    return 0 if ok else 1


def _errors(out) -> int:
    return out.substitutions + out.deletions + out.insertions


if __name__ == "__main__":
    sys.exit(main())
