"""What changed between two runs on the same files: first what differs between their
experiments (:mod:`.compare_setup`), then per provider × condition (× chunking × merge) the WER
of each run, the change and whether it is larger than noise; DER per diarizer and cpWER per
provider × diarizer where both runs scored them.

Rows are matched on their cell (:data:`KEYS`): a WER cell whatever diarizer ran (a transcript's
words do not depend on it), DER and cpWER cells per diarizer. Only cells ok in both runs, on the
same recording and reference, are compared; what was dropped is counted by reason, and a cell in
one run only is explained by the part of its key the other lacks. "Larger than noise" is the
primary test of :mod:`stt_eval.report.analysis.paired`, Holm-adjusted over every line.
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
from stt_eval.report.compare_setup import differences, experiment_of, why_missing
from stt_eval.report.markdown import md_table
from stt_eval.report.tables import TRANSCRIPT_KEY, _transcripts
from stt_eval.run.directory import ROWS_FILE, read_rows, rows_frame

KEYS = {
    # metric: the columns its cells are matched on. A transcript's WER does not depend on the
    # diarizer, so WER cells match whether or not (or which) diarizer ran in either run.
    "wer": [*TRANSCRIPT_KEY],
    "der": [*TRANSCRIPT_KEY, "diarizer"],
    "cpwer": [*TRANSCRIPT_KEY, "diarizer"],
}
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


def _denominator(metric: str) -> str:
    """The per-file denominator both runs must agree on: the paired tests divide both runs'
    errors by one."""
    kind, ratio = rate(metric)
    return kind.column(ratio.denominator)


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


def match(
    a: pd.DataFrame, b: pd.DataFrame, metric: str = "wer"
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int], Counter]:
    """The rows of each run whose ``metric`` cell (:data:`KEYS`) is ok in both, on the same
    recording and references; how many cells were dropped for each reason; and, for cells in
    one run only, which part of their key the other run lacks."""
    key = [k for k in KEYS[metric] if k in a and k in b]  # older rows: no channel mode
    if metric == "wer":  # one row per transcript, an ok one where there is one
        a, b = _transcripts(a), _transcripts(b)
    a, b = a.drop_duplicates(key, keep="last"), b.drop_duplicates(key, keep="last")
    both = a.merge(b, on=key, how="outer", suffixes=("_a", "_b"), indicator=True)
    paired = both["_merge"] == "both"
    failed_a, failed_b = both["status_a"] != "ok", both["status_b"] != "ok"
    digest_a, digest_b = (both[f"sample_digest_{s}"].fillna("").astype(str) for s in "ab")
    rescored = pd.Series(False, index=both.index)
    col = _denominator(metric)
    if f"{col}_a" in both:
        rescored = _differ(both[f"{col}_a"], both[f"{col}_b"])
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
    keys = both.loc[reasons == "", key]
    counts = Counter(reasons[reasons != ""])
    dropped = {r: counts[r] for r in REASONS if counts[r]}
    missing = why_missing(both[found[0]], b, key, "A", "B")
    missing += why_missing(both[found[1]], a, key, "B", "A")
    return a.merge(keys, on=key), b.merge(keys, on=key), dropped, missing


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

    Only cells ok in both runs on the same recording and references are compared, WER cells
    whatever diarizer ran; ``table.attrs`` holds, for WER, ``matched`` (cells compared),
    ``dropped`` ({reason: cells}) and ``missing`` ({why a cell is in one run only: cells}), and
    ``differences``: what differs between the two experiments (:func:`differences`).
    """
    run_a, run_b = Path(run_a), Path(run_b)
    frame_a, frame_b = _frame(run_a), _frame(run_b)
    names = (run_a.name or str(run_a), run_b.name or str(run_b))
    if names[0] == names[1]:
        names = (str(run_a), str(run_b))
    lines, pairs = [], []
    for metric, (_, system) in METRICS.items():
        a, b, dropped_m, missing_m = match(frame_a, frame_b, metric)
        if metric == "wer":
            matched, dropped, missing = len(a), dropped_m, missing_m
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
    diff = differences(experiment_of(run_a), experiment_of(run_b), frame_a, frame_b)
    table.attrs.update(
        runs=names, matched=matched, dropped=dropped, missing=dict(missing), differences=diff
    )
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


def _setup(found: list[dict[str, str]]) -> list[str]:
    """The "what differs" part of a comparison."""
    if not found:
        return [
            "Nothing differs between the two experiments: the same providers and options, "
            "conditions, chunking, normalizer, engine versions and files.\n"
        ]
    return ["## What differs\n", md_table(pd.DataFrame(found), percent=())]


def compare_markdown(table: pd.DataFrame) -> str:
    """A comparison as Markdown: what was compared and dropped, then one table per metric with
    the changes larger than noise marked ``**``."""
    name_a, name_b = table.attrs.get("runs", ("A", "B"))
    dropped = table.attrs.get("dropped", {})
    parts = [
        f"# {name_b} compared with {name_a}\n",
        f"A = `{name_a}`, B = `{name_b}`. {table.attrs.get('matched', 0)} cells (file × "
        "setting) ok in both runs on the same recording and references are compared (WER "
        "cells whatever diarizer ran); change = B − A in points, with its paired-bootstrap "
        "interval over files, read at the level its Holm-adjusted test is decided at. ** marks "
        f"a change larger than noise: Holm-adjusted p < {DEFAULT_ALPHA:g} over every line "
        "(p – : too few files to test).\n",
        *_setup(table.attrs.get("differences", [])),
        "Dropped: "
        + (", ".join(f"{n} {why}" for why, n in dropped.items()) if dropped else "none")
        + ".\n",
    ]
    missing = table.attrs.get("missing", {})
    if missing:
        parts.append(
            "Why cells are in one run only:\n\n"
            + "".join(f"- {n} {why}\n" for why, n in sorted(missing.items()))
        )
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
                "interval": [
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
