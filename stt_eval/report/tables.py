"""Tidy tables from a run's rows: pooled WER by any grouping, per-file rows, worst files.

Rates always come from pooled counts (sum of errors / sum of reference words), never from
averaging per-file rates.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

COUNT_COLUMNS = ("hits", "subs", "dels", "ins", "ref_words", "char_edits", "ref_chars")


def pooled(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Pooled WER/CER with S/D/I per group of successful rows, plus file and failure counts."""
    ok = frame[frame["status"] == "ok"]
    sums = ok.groupby(list(by), sort=False)[list(COUNT_COLUMNS)].sum()
    files = ok.groupby(list(by), sort=False)["sample_id"].nunique().rename("files")
    failed = (
        frame[frame["status"] == "failed"].groupby(list(by), sort=False).size().rename("failed")
    )
    out = sums.join(files).join(failed, how="outer").fillna(0)
    errors = out["subs"] + out["dels"] + out["ins"]
    out["wer"] = errors / out["ref_words"].where(out["ref_words"] > 0)
    out["cer"] = out["char_edits"] / out["ref_chars"].where(out["ref_chars"] > 0)
    for col in (*COUNT_COLUMNS, "files", "failed"):
        out[col] = out[col].astype(int)
    return out.reset_index()


def per_file(frame: pd.DataFrame) -> pd.DataFrame:
    """One line per successful row with its own WER (for drill-down, not for averaging)."""
    ok = frame[frame["status"] == "ok"].copy()
    ok["wer"] = (ok["subs"] + ok["dels"] + ok["ins"]) / ok["ref_words"].where(ok["ref_words"] > 0)
    cols = [
        "sample_id",
        "provider",
        "condition",
        "chunking",
        "merge",
        "wer",
        "subs",
        "dels",
        "ins",
        "ref_words",
        "audio_s",
        "processing_s",
    ]
    return ok[cols].sort_values(["sample_id", "provider", "condition"]).reset_index(drop=True)


def worst_files(frame: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The n rows with the highest WER (ties broken by more errors)."""
    rows = per_file(frame)
    rows["errors"] = rows["subs"] + rows["dels"] + rows["ins"]
    return rows.sort_values(["wer", "errors"], ascending=False).head(n).drop(columns="errors")


def failures(frame: pd.DataFrame) -> pd.DataFrame:
    """Failed cells with their reasons, one line per sample × provider × condition."""
    bad = frame[frame["status"] == "failed"]
    return (
        bad[["sample_id", "provider", "condition", "chunking", "error"]]
        .drop_duplicates()
        .reset_index(drop=True)
    )
