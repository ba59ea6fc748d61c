"""NeMo / open_asr_leaderboard JSONL manifests: one object a line with ``audio_filepath``,
``duration`` (seconds) and ``text``, optionally ``offset`` (seconds into the file: the row is a
slice), ``lang`` and any other fields (kept under ``meta`` when they are scalars).

NeMo manifests have no id: a row's id is its ``id`` or ``utt_id`` field when present, else the
audio file's stem, with the offset in milliseconds appended for slices (``call-0012340``) so the
slices of one recording differ. Relative ``audio_filepath`` values are resolved against the
manifest's folder, as NeMo does.

    {"audio_filepath": "audio/a.wav", "duration": 3.2, "text": "go forward ten meters"}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stt_eval.datasets.importers.common import Row, collect, scalar_meta, slice_meta
from stt_eval.datasets.manifest import Manifest, ManifestError, RowProblem
from stt_eval.datasets.text import UnreadableText, json_lines, read_lines
from stt_eval.normalization.languages import UnknownLanguage, check_language
from stt_eval.types import InvalidRecord, Sample

CONSUMED = ("audio_filepath", "duration", "text", "offset", "id", "utt_id", "lang")


def _sample(row: dict[str, Any], base: Path) -> Sample:
    missing = [k for k in ("audio_filepath", "duration", "text") if k not in row]
    if missing:
        raise InvalidRecord(
            f"missing {', '.join(missing)}; a NeMo row needs audio_filepath, duration and text"
        )
    audio, text = row["audio_filepath"], row["text"]
    if not isinstance(audio, str) or not audio:
        raise InvalidRecord(f"audio_filepath={audio!r} must be a non-empty string")
    if not isinstance(text, str):
        raise InvalidRecord(f"text={text!r} must be a string")
    offset = row.get("offset")
    meta = scalar_meta(row, CONSUMED)
    if offset is not None:
        meta.update(slice_meta(offset, row["duration"], Path(audio).stem))
    else:
        slice_meta(0, row["duration"])  # checks the duration; the row is the whole file
    sid = _row_id(row)
    language = row.get("lang") or "en"
    try:
        check_language(language)
    except UnknownLanguage as exc:
        raise InvalidRecord(f"lang: {exc}") from None
    return Sample(sid, base / audio, text, language=language, meta=meta)


def _row_id(row: dict[str, Any]) -> str:
    for key in ("id", "utt_id"):
        if isinstance(row.get(key), str) and row[key]:
            return row[key]
    stem = Path(str(row["audio_filepath"])).stem
    offset = row.get("offset")
    return stem if offset is None else f"{stem}-{round(float(offset) * 1000):07d}"


def read_nemo(path: Path | str, *, check_audio: bool = True) -> Manifest:
    """Samples of a NeMo JSONL manifest; every bad row is a RowProblem with its line number."""
    path = Path(path)
    try:
        lines = read_lines(path)
    except FileNotFoundError:
        raise ManifestError(path, "NeMo manifest not found; pass the .json/.jsonl file") from None
    except UnreadableText as exc:
        raise ManifestError(path, f"{exc.where_problem} — {exc.fix}") from None

    def rows():
        for n, row, reason in json_lines(lines):
            if reason is not None:
                yield RowProblem(path, n, None, f"not valid JSON ({reason})")
                continue
            if not isinstance(row, dict):
                yield RowProblem(path, n, None, "not a JSON object; one object per line")
                continue
            sid = _row_id(row) if isinstance(row.get("audio_filepath"), str) else None
            yield Row(path, n, sid, lambda row=row: _sample(row, path.parent))

    return collect(path, rows(), check_audio=check_audio)
