"""Are two runs' rows the same? Compares two ``results.parquet`` (or run directories) column by
column, rows matched on their cell, leaving out what differs between two runs of the same code
(timings, the run id, whether the cache served it). For refactors: "the default run's rows are
identical before and after".

    python benchmarks/same_rows.py BEFORE AFTER   # exit 1 and the differing cells if not
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

KEY = ["sample_id", "provider", "condition", "chunking", "merge", "diarizer", "channel_mode"]
UNSTABLE = (
    "run_id",
    "processing_s",
    "latency_s",
    "load_s",
    "condition_s",
    "diarization_s",
    "rtfx",
    "cached",
)
"""Columns two runs of the same code may disagree on."""
CHECKOUT = ("sample_digest", "meta.rttm_path", "meta.stm_path")
"""Columns that name where the dataset lies (the digest hashes the manifest row, paths
included): they differ between two checkouts of the same code."""


def _table(path: str) -> pd.DataFrame:
    p = Path(path)
    frame = pd.read_parquet(p / "results.parquet" if p.is_dir() else p)
    return frame.sort_values(KEY).reset_index(drop=True)


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return list(np.asarray(a)) == list(np.asarray(b))
    if pd.isna(a) if np.isscalar(a) or a is None else False:
        return b is None or (np.isscalar(b) and pd.isna(b))
    return bool(a == b)


def differences(before: pd.DataFrame, after: pd.DataFrame) -> list[str]:
    """What differs: missing or extra columns and rows, then each differing cell."""
    out = []
    for name, cols in (
        ("only before", set(before) - set(after)),
        ("only after", set(after) - set(before)),
    ):
        out += [f"column {c}: {name}" for c in sorted(cols)]
    if len(before) != len(after) or not before[KEY].equals(after[KEY]):
        return [*out, f"rows differ: {len(before)} before, {len(after)} after"]
    for col in [c for c in before if c in after and c not in (*UNSTABLE, *CHECKOUT)]:
        if before[col].dtype != after[col].dtype:
            out.append(f"column {col}: {before[col].dtype} -> {after[col].dtype}")
        for i, (a, b) in enumerate(zip(before[col], after[col])):
            if not _same(a, b):
                out.append(f"{col} of {tuple(before.loc[i, KEY])}: {a!r} -> {b!r}")
    return out


def main(argv: list[str]) -> int:
    before, after = _table(argv[0]), _table(argv[1])
    found = differences(before, after)
    compared = [c for c in before if c in after and c not in (*UNSTABLE, *CHECKOUT)]
    print(
        f"{len(before)} rows, {len(compared)} columns compared (left out: {', '.join(UNSTABLE + CHECKOUT)})"
    )
    for line in found:
        print(line)
    print("identical" if not found else f"{len(found)} differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
