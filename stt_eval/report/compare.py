"""What changed between two runs on the same files: per provider × condition (× chunking ×
merge) the WER of each run, the change and whether it is larger than noise; DER per diarizer
and cpWER per provider × diarizer where both runs scored them.

Rows are matched on their grid cell (sample, provider, condition, chunking, merge, diarizer);
only cells ok in both runs, on the same recording and reference, are compared, and what was
dropped is counted by reason. "Larger than noise" is the paired bootstrap over the files both
runs scored (:mod:`stt_eval.report.analysis.paired`), Holm-adjusted over every line of the table.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from stt_eval.metrics.registry import rate
from stt_eval.metrics.stats import DEFAULT_ALPHA
from stt_eval.report.analysis.intervals import der_rows, ok_rows
from stt_eval.report.analysis.paired import FEW_FILES, decide, paired_files
from stt_eval.report.analysis.sections import points
from stt_eval.report.markdown import md_table
from stt_eval.run.directory import ROWS_FILE, read_rows, rows_frame

KEY = ["sample_id", "provider", "condition", "chunking", "merge", "diarizer"]
METRICS = {
    # metric: (grouping columns, how the system is named)
    "wer": (["provider", "condition", "chunking", "merge"], lambda g: g["provider"]),
    "der": (["diarizer", "condition", "chunking"], lambda g: g["diarizer"]),
    "cpwer": (
        ["provider", "diarizer", "condition", "chunking", "merge"],
        lambda g: f"{g['provider']} + {g['diarizer']}",
    ),
}


def _frame(run_dir: Path) -> pd.DataFrame:
    rows = read_rows(run_dir)
    if not rows:
        raise FileNotFoundError(
            f"{run_dir}: not a run directory (no rows in {ROWS_FILE}); `stt-eval runs` lists "
            "the runs in results/"
        )
    return rows_frame(rows)


def _denominators() -> list[str]:
    """Per-file denominators that must agree: the paired tests divide both runs' errors by one."""
    return [m.column(r.denominator) for m, r in (rate(name) for name in METRICS)]


def _differ(a: pd.Series, b: pd.Series) -> pd.Series:
    """Values that differ, two missing values counting as equal."""
    both_missing = a.isna() & b.isna()
    close = np.isclose(a.astype(float).fillna(0), b.astype(float).fillna(0), atol=1e-6)
    return ~both_missing & ((a.isna() != b.isna()) | ~close)


REASONS = (
    "only in A",
    "only in B",
    "failed in A",
    "failed in B",
    "failed in both",
    "recording or reference changed",
    "scored on other reference words or seconds (normalizer or collar changed)",
)
"""Why a cell is not compared, in the order they are checked (a cell counts under the first)."""


def match(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """The rows of each run whose cell is ok in both, on the same recording and references,
    and how many cells were dropped for each reason."""
    a, b = a.drop_duplicates(KEY, keep="last"), b.drop_duplicates(KEY, keep="last")
    both = a.merge(b, on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    paired = both["_merge"] == "both"
    failed_a, failed_b = both["status_a"] != "ok", both["status_b"] != "ok"
    digest_a, digest_b = (both[f"sample_digest_{s}"].fillna("").astype(str) for s in "ab")
    rescored = pd.Series(False, index=both.index)
    for col in _denominators():
        if f"{col}_a" in both:
            rescored |= _differ(both[f"{col}_a"], both[f"{col}_b"])
    found = [
        both["_merge"] == "left_only",
        both["_merge"] == "right_only",
        paired & failed_a & ~failed_b,
        paired & ~failed_a & failed_b,
        paired & failed_a & failed_b,
        (digest_a != "") & (digest_b != "") & (digest_a != digest_b),
        rescored,
    ]
    reasons = pd.Series("", index=both.index)
    for reason, where in zip(REASONS, found):
        reasons[(reasons == "") & where] = reason
    keys = both.loc[reasons == "", KEY]
    counts = Counter(reasons[reasons != ""])
    dropped = {r: counts[r] for r in REASONS if counts[r]}
    return a.merge(keys, on=KEY), b.merge(keys, on=KEY), dropped


def _groups(metric: str, a: pd.DataFrame, b: pd.DataFrame):
    """(labels, rows of A, rows of B) per group of ``metric``'s columns."""
    by, _ = METRICS[metric]
    if metric == "der":
        a, b = der_rows(a), der_rows(b)
    else:
        extra = ["diarizer"] if metric == "cpwer" else []
        a, b = ok_rows(a, extra), ok_rows(b, extra)
    if a.empty:
        return
    for key, rows_a in a.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        mask = pd.Series(True, index=b.index)
        for col, value in zip(by, key):
            mask &= b[col] == value
        yield dict(zip(by, key)), rows_a, b[mask]


def compare_runs(run_a: Path | str, run_b: Path | str, *, seed: int = 0) -> pd.DataFrame:
    """Per metric (wer; der, cpwer where scored) and system × condition × chunking × merge:
    files compared, the rate in run A and run B, ``change`` = B − A with its 95 % interval, the
    Holm-adjusted paired-bootstrap p, MAPSSWE's p, and ``significant`` (adjusted p < 0.05).

    Only cells ok in both runs on the same recording and references are compared;
    ``table.attrs`` holds ``matched`` (cells compared) and ``dropped`` ({reason: cells}).
    """
    run_a, run_b = Path(run_a), Path(run_b)
    a, b, dropped = match(_frame(run_a), _frame(run_b))
    names = (run_a.name or str(run_a), run_b.name or str(run_b))
    if names[0] == names[1]:
        names = (str(run_a), str(run_b))
    lines, pairs = [], []
    for metric, (_, system) in METRICS.items():
        for labels, rows_a, rows_b in _groups(metric, a, b):
            both = paired_files(rows_a, rows_b, metric)
            if both.empty:
                continue
            lines.append((metric, system(labels), labels))
            pairs.append((both, names, (metric, *labels.values()), metric))
    records = []
    for (metric, system, labels), line in zip(lines, decide(pairs, seed)):
        boot, iv = line.test, line.interval
        records.append(
            {
                "metric": metric,
                "system": system,
                "condition": labels["condition"],
                "chunking": labels["chunking"],
                "merge": labels.get("merge", "–"),
                "files": boot.n,
                "a": boot.rate_a,
                "b": boot.rate_b,
                "change": -boot.difference,
                "change_low": -iv.high,
                "change_high": -iv.low,
                "p": boot.p,
                "p_mapsswe": line.mapsswe.p if line.mapsswe else math.nan,
                "significant": boot.significant,
                "verdict": line.verdict,
            }
        )
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    rank = table["metric"].map(
        {m: i for i, m in enumerate(METRICS)}
    )  # each system's lines together
    table = table.assign(_rank=rank).sort_values(["_rank", "system"], kind="stable")
    table = table.drop(columns="_rank").reset_index(drop=True)
    table.attrs.update(runs=names, matched=len(a), dropped=dropped)
    return table


COLUMNS = [
    "metric",
    "system",
    "condition",
    "chunking",
    "merge",
    "files",
    "a",
    "b",
    "change",
    "change_low",
    "change_high",
    "p",
    "p_mapsswe",
    "significant",
    "verdict",
]


def compare_markdown(table: pd.DataFrame) -> str:
    """A comparison as Markdown: what was compared and dropped, then one table per metric with
    the changes larger than noise marked ``**``."""
    name_a, name_b = table.attrs.get("runs", ("A", "B"))
    dropped = table.attrs.get("dropped", {})
    parts = [
        f"# {name_b} compared with {name_a}\n",
        f"A = `{name_a}`, B = `{name_b}`. {table.attrs.get('matched', 0)} cells (file × "
        "setting) ok in both runs on the same recording and references are compared; change = "
        "B − A in points, with its 95 % paired-bootstrap interval over files. ** marks a "
        f"change larger than noise: Holm-adjusted p < {DEFAULT_ALPHA:g} over every line.\n",
        "Dropped: "
        + (", ".join(f"{n} {why}" for why, n in dropped.items()) if dropped else "none")
        + ".\n",
    ]
    files = int(table["files"].max()) if len(table) else 0
    if len(table) and files < FEW_FILES:
        parts.append(
            f"With at most {files} files per line these figures are rough: a change is only "
            "marked when it holds across files, and a few files rarely show that.\n"
        )
    for metric in METRICS:
        rows = table[table["metric"] == metric]
        if rows.empty:
            continue
        shown = pd.DataFrame(
            {
                "system": rows["system"],
                "condition": rows["condition"],
                "chunking": rows["chunking"],
                "merge": rows["merge"],
                "files": rows["files"],
                metric + " A": rows["a"],
                metric + " B": rows["b"],
                "change (points)": [
                    points(c) + (" **" if s else "")
                    for c, s in zip(rows["change"], rows["significant"])
                ],
                "95 % CI": [
                    f"[{points(lo)}, {points(hi)}]" if not math.isnan(lo) else "–"
                    for lo, hi in zip(rows["change_low"], rows["change_high"])
                ],
                "p": ["–" if math.isnan(p) else f"{p:.3g}" for p in rows["p"]],
            }
        )
        if metric == "der":
            shown = shown.drop(columns="merge")
        parts += [f"## {metric.upper()}\n", md_table(shown, percent=(metric + " A", metric + " B"))]
    if table.empty:
        parts.append("No cell is ok in both runs: nothing to compare.\n")
    return "\n".join(parts)
