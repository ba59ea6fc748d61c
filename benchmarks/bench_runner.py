"""The runner's own figures, side by side with their targets (issue "The runner at scale").

    python benchmarks/bench_runner.py

- speed-up of local engines with 2 worker processes over 1, on 2 cores (target >= 1.7x);
- CPU utilisation during that 2-process run: CPU seconds / wall seconds / cores (target >= 90 %);
- wall time of a fully cached re-run of the same grid (target < 5 s);
- Dask LocalCluster overhead per unit, on the cached grid (all work is cache reads, so what is
  left is scheduling and transfer).

The grid: the bundled sample's quick subset x pocketsphinx x clean and 10 dB white noise (8
units), each run from an empty cache except the re-runs.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from stt_eval.api import sample_manifest
from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.run.grid import run_experiment


def _cpu_s() -> float:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(exp: Experiment, cache: Path, **kw) -> tuple[float, float, int]:
    cpu, start = _cpu_s(), time.perf_counter()
    rows = run_experiment(exp, progress=False, cache_root=cache, **kw).rows
    return time.perf_counter() - start, _cpu_s() - cpu, len(rows)


def main() -> None:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = Experiment(
            dataset=sample_manifest(),
            providers=(ProviderSpec("pocketsphinx"),),
            conditions=("clean", "noise(kind=white, snr_db=10)"),
            select={"quick": True},
            output=tmp / "r",
            name="bench",
        )
        one, _, units = _timed(replace(base, workers=1, output=tmp / "r1"), tmp / "c1")
        two, cpu, _ = _timed(replace(base, workers=2, output=tmp / "r2"), tmp / "c2")
        again = replace(base, workers=2, output=tmp / "r3")
        cached, _, _ = _timed(again, tmp / "c2")
        dask, _, _ = _timed(replace(again, executor="dask", output=tmp / "r4"), tmp / "c2")
    rows = [
        ("units (sample x condition)", f"{units}", ""),
        ("1 process, wall s", f"{one:.1f}", ""),
        ("2 processes, wall s", f"{two:.1f}", ""),
        ("speed-up, 2 processes over 1", f"{one / two:.2f}x", ">= 1.7x"),
        ("CPU utilisation, 2 processes", f"{cpu / two / cores:.0%}", ">= 90 %"),
        ("cached re-run, wall s", f"{cached:.2f}", "< 5 s"),
        ("Dask LocalCluster on the cached grid, wall s", f"{dask:.2f}", ""),
        ("Dask overhead per unit over local, s", f"{(dask - cached) / units:.3f}", ""),
    ]
    print(f"{'figure':46s} {'stt-eval':>10s} {'target':>10s}")
    for name, value, target in rows:
        print(f"{name:46s} {value:>10s} {target:>10s}")


if __name__ == "__main__":
    main()
