"""Start-up: wall time of the quick commands, median of N fresh processes, beside ``python -c
pass`` (the interpreter alone) and ``import numpy`` (what scoring cannot do without).

``score`` and ``der`` run on one-utterance / one-turn files, so what is measured is the start-up
a user waits for on every call. Target: each under 0.3 s on these cores (issue 25); which
packages each command may load is a test (tests/test_startup.py), not a timing.

    python benchmarks/bench_startup.py [--runs 11]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.3


def _cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _median(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `runs` fresh processes (CPU varies less on a busy box)."""
    walls, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), _cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
        if proc.returncode:
            sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=11, help="processes per command (median)")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_startup_"))
    (tmp / "ref.trn").write_text("go forward ten meters (u1)\n")
    (tmp / "hyp.trn").write_text("go forward 10 meters (u1)\n")
    (tmp / "ref.rttm").write_text("SPEAKER f 1 0 10 <NA> <NA> A <NA> <NA>\n")
    (tmp / "hyp.rttm").write_text("SPEAKER f 1 0 12 <NA> <NA> x <NA> <NA>\n")
    py, cli = sys.executable, [sys.executable, "-m", "stt_eval.cli"]
    rows = [
        ("python -c pass (anchor)", [py, "-c", "pass"]),
        ("python -c 'import numpy' (anchor)", [py, "-c", "import numpy"]),
        ("stt-eval --version", [*cli, "--version"]),
        ("stt-eval --help", [*cli, "--help"]),
        ("stt-eval score (whisper)", [*cli, "score", str(tmp / "ref.trn"), str(tmp / "hyp.trn")]),
        ("stt-eval der", [*cli, "der", str(tmp / "ref.rttm"), str(tmp / "hyp.rttm")]),
    ]
    print(f"median of {args.runs} fresh processes each; target < {TARGET_S} s wall")
    print(f"{'command':36s} {'wall s':>7s} {'CPU s':>7s}")
    for name, cmd in rows:
        wall, cpu = _median(cmd, args.runs)
        mark = "" if "anchor" in name else ("  ok" if wall < TARGET_S else "  over target")
        print(f"{name:36s} {wall:7.3f} {cpu:7.3f}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
