"""A run directory's files: ``rows.jsonl`` (the source of truth, appended as cells finish),
``results.parquet`` (the tidy table) and ``summary.md``.

A torn last line of ``rows.jsonl`` (a run killed mid-write) is ignored when read back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pandas as pd

from stt_eval.types import ResultRow

ROWS_FILE = "rows.jsonl"
RESULTS_FILE = "results.parquet"
SUMMARY_FILE = "summary.md"
EXPERIMENT_FILE = "experiment.json"

_ROW_FIELDS = frozenset(f.name for f in fields(ResultRow))


def row_to_dict(row: ResultRow) -> dict[str, Any]:
    """A row as plain JSON-able values (paths and other objects as strings)."""
    return json.loads(json.dumps(asdict(row), default=str))


def row_from_dict(d: dict[str, Any]) -> ResultRow:
    """A row read back; fields written by another version of stt-eval and unknown here are
    dropped (the rest still counts)."""
    return ResultRow(**{k: v for k, v in d.items() if k in _ROW_FIELDS})


def read_rows(run_dir: Path) -> list[ResultRow]:
    """Rows written so far; a torn last line (killed mid-write) is ignored."""
    path = Path(run_dir) / ROWS_FILE
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(row_from_dict(json.loads(line)))
            except (json.JSONDecodeError, TypeError, ValueError):
                continue
    return rows


def append_rows(path: Path, rows: Iterable[ResultRow], mode: str = "a") -> None:
    """Append rows to a JSONL file and fsync, so a crash right after loses nothing written."""
    with path.open(mode, encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row_to_dict(row), ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def rows_frame(rows: Sequence[ResultRow]) -> pd.DataFrame:
    """Rows as a tidy DataFrame: one column per field, metadata as ``meta.<key>`` columns."""
    records = []
    for row in rows:
        d = row_to_dict(row)
        meta = d.pop("meta") or {}
        d.update(
            {
                f"meta.{k}": (
                    v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v)
                )
                for k, v in meta.items()
            }
        )
        records.append(d)
    columns = [f.name for f in fields(ResultRow) if f.name != "meta"]
    return pd.DataFrame.from_records(records, columns=None if records else columns)


def write_results(run_dir: Path, rows: Sequence[ResultRow]) -> Path:
    """The run's tidy table as Parquet (rewritten from rows.jsonl, which stays the source of truth)."""
    path = Path(run_dir) / RESULTS_FILE
    tmp = path.with_suffix(".tmp")
    rows_frame(rows).to_parquet(tmp, index=False)
    tmp.replace(path)
    return path
