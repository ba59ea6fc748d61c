"""Transcripts made elsewhere, keyed by utterance id: sclite trn, JSONL or a manifest.

trn is sclite's format, one utterance a line: ``the words of it (utterance_id)``.
JSONL rows need ``id`` and ``text``, both strings (other fields, like a manifest's ``audio``, are
ignored). Files are UTF-8 (:mod:`stt_eval.datasets.text`: a BOM is removed with a warning, other
encodings are refused with the line and byte offset).
"""

from __future__ import annotations

import re
from pathlib import Path

from stt_eval.datasets.text import (
    UnreadableText,
    json_lines,
    json_type,
    read_lines,
)
from stt_eval.errors import SttEvalError

_NOT_ID = re.compile(r"[()\s]")


class TranscriptFileError(SttEvalError, ValueError):
    """A transcript file could not be read; names the file, the line and the fix."""


def _lines(path: Path) -> list[str]:
    try:
        return read_lines(path)
    except UnreadableText as exc:
        raise TranscriptFileError(str(exc)) from None


def read_trn(path: Path | str) -> dict[str, str]:
    """sclite trn: ``text (id)`` per line; blank lines skipped; duplicate ids are errors."""
    path = Path(path)
    out: dict[str, str] = {}
    for n, line in enumerate(_lines(path), start=1):
        if not line.strip():
            continue
        text, uid = _trn_line(line)
        if uid is None:
            raise TranscriptFileError(
                f"{path}: line {n}: not trn format; each line must be 'words (utterance_id)'"
            )
        if uid in out:
            raise TranscriptFileError(f"{path}: line {n}: duplicate id {uid!r}; ids must be unique")
        out[uid] = text
    return out


def _trn_line(line: str) -> tuple[str, str | None]:
    r"""``words (id)`` → (words, id), or id None when the line is not that: the id is the text of
    the last parentheses closing the line, with no space or parenthesis in it: what
    ``^(.*?)\s*\(([^()\s]+)\)\s*$`` matches, without its backtracking (~5x faster)."""
    body = line.rstrip()
    start = body.rfind("(")
    uid = body[start + 1 : -1]
    if start < 0 or not body.endswith(")") or not uid or _NOT_ID.search(uid):
        return "", None
    return body[:start].rstrip(), uid


def read_jsonl(path: Path | str) -> dict[str, str]:
    """JSONL rows with a string ``id`` and a string ``text``; ids are never converted (``7`` and
    ``"7"`` would otherwise match each other, or fail to, depending on the other file)."""
    path = Path(path)
    out: dict[str, str] = {}
    for n, row, reason in json_lines(_lines(path)):
        if reason is not None:
            raise TranscriptFileError(f"{path}: line {n}: not valid JSON ({reason})")
        if not isinstance(row, dict) or "id" not in row or not isinstance(row.get("text"), str):
            raise TranscriptFileError(
                f'{path}: line {n}: each row needs "id" and "text" (a string)'
            )
        if not isinstance(row["id"], str):
            raise TranscriptFileError(
                f'{path}: line {n}: "id" is {json_type(row["id"])} ({row["id"]!r}), not a string; '
                "ids are never converted (7 and 7.0 would differ): write the id in quotes"
            )
        if row["id"] in out:
            raise TranscriptFileError(
                f"{path}: line {n}: duplicate id {row['id']!r}; ids must be unique"
            )
        out[row["id"]] = row["text"]
    return out


def read_transcripts(path: Path | str) -> dict[str, str]:
    """Read ``.trn`` or ``.jsonl`` transcripts into {id: text}."""
    path = Path(path)
    if not path.is_file():
        raise TranscriptFileError(f"{path}: file not found")
    if path.suffix.lower() == ".trn":
        return read_trn(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        return read_jsonl(path)
    raise TranscriptFileError(
        f"{path}: unsupported transcript file {path.suffix!r}; use .trn or .jsonl"
    )


def write_trn(texts: dict[str, str], path: Path | str) -> Path:
    """Write {id: text} as sclite trn."""
    path = Path(path)
    path.write_text(
        "".join(f"{' '.join(text.split())} ({uid})\n" for uid, text in texts.items()),
        encoding="utf-8",
    )
    return path
