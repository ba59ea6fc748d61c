"""Hugging Face ``datasets`` audio folders (the ``audiofolder`` builder): a folder with a
``metadata.csv`` or ``metadata.jsonl`` whose ``file_name`` column names each audio file
(relative to the metadata file) and a text column. Split folders (``train/metadata.csv``,
``test/metadata.jsonl``) are read too, each split recorded as ``meta.split``.

The text column is the first of ``TEXT_COLUMNS`` present; other scalar columns go to ``meta``.
A sample's id is its ``id`` column when present, else ``file_name`` without its suffix.

    file_name,transcription,speaker_id
    clips/a.wav,go forward ten meters,s1
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from stt_eval.datasets.importers.common import Row, collect, scalar_meta
from stt_eval.datasets.manifest import Manifest, ManifestError, RowProblem
from stt_eval.datasets.text import UnreadableText, json_lines, read_text, split_lines
from stt_eval.types import InvalidRecord, Sample

TEXT_COLUMNS = ("text", "transcription", "transcript", "sentence", "normalized_text", "raw_text")
METADATA = ("metadata.csv", "metadata.jsonl")


def _records(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    try:
        text = read_text(path)
    except UnreadableText as exc:
        raise ManifestError(path, f"{exc.where_problem} — {exc.fix}") from None
    if path.suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        return [(n, dict(r)) for n, r in enumerate(reader, start=2)]
    out: list[tuple[int, dict[str, Any] | str]] = []
    for n, row, reason in json_lines(split_lines(text)):
        if reason is not None:
            out.append((n, f"not valid JSON ({reason})"))
            continue
        out.append((n, row if isinstance(row, dict) else "not a JSON object"))
    return out


def _text_column(path: Path, rows: list) -> str:
    columns = next((list(r) for _, r in rows if isinstance(r, dict)), [])
    for name in TEXT_COLUMNS:
        if name in columns:
            return name
    raise ManifestError(
        path,
        f"no text column among {columns}; name the transcript column one of "
        f"{', '.join(TEXT_COLUMNS)}",
    )


def _sample(row: dict[str, Any], folder: Path, text_col: str, split: str | None) -> Sample:
    name = row.get("file_name")
    if not isinstance(name, str) or not name:
        raise InvalidRecord("file_name is missing or empty; it names the audio file")
    text = row.get(text_col)
    if not isinstance(text, str):
        raise InvalidRecord(f"{text_col}={text!r} must be a string")
    meta = scalar_meta(row, ("file_name", text_col, "id"))
    if split is not None:
        meta["split"] = split
    sid = (
        row["id"]
        if isinstance(row.get("id"), str) and row["id"]
        else str(Path(name).with_suffix(""))
    )
    return Sample(sid, folder / name, text, meta=meta)


def read_audiofolder(path: Path | str, *, check_audio: bool = True) -> Manifest:
    """Samples of an audio folder (or of one metadata file); all bad rows as RowProblems."""
    path = Path(path)
    if path.is_file():
        files = [path]
    else:
        files = [p for p in sorted(path.rglob("metadata.*")) if p.name in METADATA]
    if not files:
        raise ManifestError(
            path,
            "has no metadata.csv or metadata.jsonl; an audio folder needs one (file_name, text)",
        )

    def rows():
        for meta_file in files:
            records = _records(meta_file)
            text_col = _text_column(meta_file, records)
            split = None if meta_file.parent == path or path.is_file() else meta_file.parent.name
            for n, row in records:
                if isinstance(row, str):
                    yield RowProblem(meta_file, n, None, row)
                    continue
                yield Row(
                    meta_file,
                    n,
                    row.get("file_name") if isinstance(row.get("file_name"), str) else None,
                    lambda r=row, f=meta_file.parent, s=split, c=text_col: _sample(r, f, c, s),
                )

    return collect(path, rows(), check_audio=check_audio)
