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
    if "boundary_errors" in ok and ok["boundary_errors"].notna().any():
        # errors within ±1 s of a chunk cut (only chunked rows have cuts)
        sums = ok.groupby(list(by), sort=False)["boundary_errors"].sum(min_count=1)
        out["boundary_errors"] = sums.astype("Int64")
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


DER_COLUMNS = ("der_missed_s", "der_false_alarm_s", "der_confusion_s", "der_total_s")


def pooled_der(frame: pd.DataFrame, by: Sequence[str] = ("diarizer", "condition")) -> pd.DataFrame:
    """Pooled DER (seconds added up over files) and mean JER per group, plus cpWER.

    A local diarizer's turns do not depend on the ASR provider, so its rows are de-duplicated
    per sample × condition; provider-native diarization stays per provider.
    """
    rows = frame[(frame["status"] == "ok") & frame["der_total_s"].notna()].copy()
    if rows.empty:
        return pd.DataFrame()
    rows["diarizer"] = rows["diarizer"].where(
        rows["diarizer"] != "provider", "provider:" + rows["provider"]
    )
    der_rows = rows.drop_duplicates(["sample_id", "condition", "chunking", "diarizer"])
    out = der_rows.groupby(list(by), sort=False)[list(DER_COLUMNS)].sum()
    out["files"] = der_rows.groupby(list(by), sort=False)["sample_id"].nunique()
    out["jer"] = der_rows.groupby(list(by), sort=False)["jer"].mean()
    err = out["der_missed_s"] + out["der_false_alarm_s"] + out["der_confusion_s"]
    out["der"] = err / out["der_total_s"].where(out["der_total_s"] > 0)
    for part, col in (
        ("miss", "der_missed_s"),
        ("fa", "der_false_alarm_s"),
        ("conf", "der_confusion_s"),
    ):
        out[part] = out[col] / out["der_total_s"].where(out["der_total_s"] > 0)
    out = out.reset_index()
    cp = rows[rows["cp_ref_words"].notna()]
    if not cp.empty:
        cp_sum = (
            cp.groupby([*by, "provider"], sort=False)[["cp_errors", "cp_ref_words"]]
            .sum()
            .reset_index()
        )
        cp_sum["cpwer"] = cp_sum["cp_errors"] / cp_sum["cp_ref_words"]
        wide = cp_sum.pivot_table(index=list(by), columns="provider", values="cpwer", sort=False)
        wide.columns = [f"cpwer {c}" for c in wide.columns]
        out = out.merge(wide.reset_index(), on=list(by), how="left")
    return out.drop(columns=list(DER_COLUMNS))
