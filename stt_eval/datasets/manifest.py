"""Dataset manifests: one row per recording, in JSONL or CSV, validated all at once.

Fields: ``id``, ``audio`` (path relative to the manifest), ``text`` (reference transcript),
optional ``rttm`` (reference speaker turns), ``stm`` (speaker-attributed reference text),
``ctm`` (reference word times, for streaming latency; ``stt-eval align`` makes them),
``language`` (ISO 639 code, default ``en``), ``terms`` (domain terms; a list in JSONL, ``;``-separated
in CSV) and ``meta`` (free metadata: an object in JSONL, ``meta.<name>`` columns in CSV) whose
keys become columns to group results by. ``channels`` (the speaker on each channel of ``audio``)
or ``tracks`` (speaker → a file of that speaker alone; ``audio`` is then the mixed recording)
make a sample transcribable by channel; their names must be the RTTM/STM speakers (JSONL only).

Every bad row is reported at once with its row number, so a user fixes a manifest in one pass.
A field that is not one of these (a NeMo ``duration``, a ``speaker`` column) is kept under
``meta`` with one warning per field for the whole file (:attr:`Manifest.notes`), not refused.
Types are checked, never converted: in JSONL, ``id``, ``audio``, ``text``, ``rttm``, ``stm``,
``ctm``, ``language`` and ``audio_url`` are strings, ``terms`` a list of strings, ``meta`` an object whose
values are strings, numbers, true/false or null (they become table columns); a key given twice
or a NaN is refused. CSV cells are strings by nature. The file is UTF-8 (a BOM is removed with a
warning; see :mod:`stt_eval.datasets.text`), and a manifest with no rows is an error.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stt_eval.datasets.annotations import (
    AnnotationError,
    check_ids_held,
    read_ctm,
    read_rttm,
    read_stm,
)
from stt_eval.datasets.manifest_fields import (
    FIELDS,
    REQUIRED,
    fold_unknown,
    leftover_problems,
    type_problems,
    unknown_field_note,
)
from stt_eval.datasets.text import (
    NotStrictJson,
    UnreadableText,
    loads_strict,
    read_text,
    split_lines,
)
from stt_eval.errors import SttEvalError
from stt_eval.normalization.languages import UnknownLanguage, check_language
from stt_eval.types import InvalidRecord, Sample


class UnknownFieldWarning(UserWarning):
    """A manifest has a field that is not a manifest field; it was kept under ``meta``."""


class RowProblemWarning(UserWarning):
    """A manifest row was rejected; a run records its cells as failures and carries on."""


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one manifest row (1-based; the CSV header is row 1; None when found
    after reading, e.g. a reference that does not fit its recording)."""

    path: Path
    row: int | None
    sample_id: str | None
    message: str

    def __str__(self) -> str:
        row = f": row {self.row}" if self.row is not None else ""
        who = f" (id {self.sample_id!r})" if self.sample_id else ""
        return f"{self.path}{row}{who}: {self.message}"


class ManifestError(SttEvalError, ValueError):
    """A manifest could not be read at all, or (strict mode) has bad rows; lists every problem."""

    def __init__(self, path: Path, problems: Sequence[RowProblem] | str) -> None:
        self.path = path
        self.problems = tuple(problems) if not isinstance(problems, str) else ()
        text = problems if isinstance(problems, str) else "\n  ".join(str(p) for p in problems)
        super().__init__(
            f"{path}: manifest has problems:\n  {text}" if self.problems else f"{path}: {text}"
        )


@dataclass(frozen=True)
class Manifest:
    """The valid samples of a manifest and the rows that were rejected (with reasons)."""

    path: Path
    samples: tuple[Sample, ...]
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...] = ()
    """Warnings about the whole file (one per field that is not a manifest field, kept as meta)."""


def _text(path: Path) -> str:
    try:
        return read_text(path)
    except UnreadableText as exc:
        raise ManifestError(path, f"{exc.where_problem} — {exc.fix}") from None


def _read_jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any] | str]]:
    text = _text(path)
    if text.lstrip().startswith("["):
        raise ManifestError(
            path,
            "is a JSON array; a manifest is JSON Lines: one object per line, no enclosing [ ] "
            "(e.g. jq -c '.[]' manifest.json > manifest.jsonl)",
        )
    for n, line in enumerate(split_lines(text), start=1):
        if not line.strip():
            continue
        try:
            row = loads_strict(line)
        except json.JSONDecodeError as exc:
            yield (
                n,
                f"not valid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object",
            )
            continue
        except NotStrictJson as exc:
            yield n, f"not valid JSON: {exc}"
            continue
        yield (
            n,
            row
            if isinstance(row, dict)
            else 'not a JSON object; each line must be {"id": …, "audio": …, "text": …}',
        )


def _read_csv(path: Path) -> Iterable[tuple[int, dict[str, Any] | str]]:
    reader = csv.DictReader(io.StringIO(_text(path), newline=""))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    twice = sorted({c for c in header if header.count(c) > 1})
    if missing or twice:
        raise ManifestError(
            path,
            f"CSV header {header} is wrong: missing {missing}"
            + (f", given twice {twice} (the last would win)" if twice else "")
            + f". Columns are {', '.join(FIELDS[:-1])} and meta.<name> for metadata; "
            "the first line must be the header, e.g. 'id,audio,text'",
        )
    for n, raw in enumerate(reader, start=2):
        row: dict[str, Any] = {
            k: v for k, v in raw.items() if k and v not in (None, "") and not k.startswith("meta.")
        }
        if None in raw:
            yield (
                n,
                f"has {len(header) + len(raw[None])} columns but the header has {len(header)}; quote fields that contain commas",
            )
            continue
        meta = {
            k[5:]: v for k, v in raw.items() if k and k.startswith("meta.") and v not in (None, "")
        }
        if meta:
            row["meta"] = meta
        if "terms" in row:
            row["terms"] = [t.strip() for t in row["terms"].split(";") if t.strip()]
        yield n, row


def _sample(row: dict[str, Any], base: Path) -> Sample:
    wrong = leftover_problems(row) + type_problems(row)
    missing = [f for f in REQUIRED if row.get(f) in (None, "")]
    if missing:
        fix = (
            "add the reference transcript"
            if missing == ["text"]
            else "every row needs id, audio and text"
        )
        wrong.append(f"missing {', '.join(missing)}: {fix}")
    if wrong:
        raise InvalidRecord("; ".join(wrong))
    language = row.get("language") or "en"
    try:
        check_language(language)
    except UnknownLanguage as exc:
        raise InvalidRecord(str(exc)) from None
    terms = row.get("terms") or ()
    meta = dict(row.get("meta") or {})
    sid = row["id"]
    for key in ("rttm", "stm", "ctm"):
        if row.get(key):
            ref = base / row[key]
            if not ref.is_file():
                raise InvalidRecord(
                    f"{key} file {ref} not found; fix the path (relative to the manifest) or drop the field"
                )
            meta[f"{key}_path"] = str(ref)
    turns = _reference_turns(Path(meta["rttm_path"]), sid) if row.get("rttm") else None
    segments = reference_segments(Path(meta["stm_path"]), sid) if row.get("stm") else None
    ref_words = reference_words(Path(meta["ctm_path"]), sid) if row.get("ctm") else None
    tracks = tuple((spk, base / f) for spk, f in (row.get("tracks") or {}).items())
    for spk, track in tracks:
        if not track.is_file():
            raise InvalidRecord(
                f"track {spk!r}: file {track} not found; fix the path (relative to the manifest)"
            )
    channels = tuple(row.get("channels") or ())
    named = {t.speaker for t in turns or ()} | {s.speaker for s in segments or ()}
    unknown = [spk for spk in channels or (s for s, _ in tracks) if named and spk not in named]
    if unknown:
        raise InvalidRecord(
            f"channel/track speakers {unknown} are not speakers of the rttm/stm "
            f"({', '.join(sorted(named))}); name each channel as its reference speaker"
        )
    return Sample(
        id=sid,
        audio_path=base / row["audio"],
        text=row["text"],
        turns=turns,
        segments=segments,
        audio_url=_audio_url(row.get("audio_url")),
        language=language,
        terms=tuple(terms),
        meta=meta,
        channels=channels,
        tracks=tracks,
        ref_words=ref_words,
    )


def _audio_url(value: Any) -> str | None:
    """A hosted copy of the recording (http or https) a provider may fetch itself."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise InvalidRecord(f"audio_url {value!r} must be an http(s) URL or left out")
    return value


def _reference_turns(path: Path, sample_id: str) -> tuple:
    """The sample's reference speaker turns from its RTTM (other file ids in it are ignored).

    An RTTM with no SPEAKER line at all says the recording holds no speech: DER is then
    undefined and reported as such, while WER is still scored. One that holds other ids but
    not this one is refused, naming the ids it holds: it is another recording's, or misspelt.
    """
    try:
        turns = read_rttm(path)
        if turns:
            check_ids_held(path, "RTTM", [sample_id], turns)
    except AnnotationError as exc:
        raise InvalidRecord(str(exc)) from exc
    return turns.get(sample_id, ())


def reference_segments(path: Path, sample_id: str) -> tuple:
    """The sample's speaker-attributed reference segments (STM), for cpWER."""
    return _of_sample(read_stm, "STM", path, sample_id)


def reference_words(path: Path, sample_id: str) -> tuple:
    """The sample's reference word times (CTM), for streaming latency and word timing."""
    return _of_sample(read_ctm, "CTM", path, sample_id)


def _of_sample(read: Any, kind: str, path: Path, sample_id: str) -> tuple:
    """One sample's entries of an annotation file that must hold it."""
    try:
        by_file = read(path)
        check_ids_held(path, kind, [sample_id], by_file)
    except AnnotationError as exc:
        raise InvalidRecord(str(exc)) from exc
    return by_file[sample_id]


def load_manifest(path: Path | str, *, strict: bool = False, check_audio: bool = True) -> Manifest:
    """Read and validate a JSONL or CSV manifest.

    Bad rows are collected as RowProblems (all of them, with row numbers); with ``strict=True``
    any problem raises ManifestError listing them all. ``check_audio`` reports rows whose audio
    file does not exist. A file that is not UTF-8 text, a CSV with a wrong header, a JSON array
    instead of JSON Lines, or a manifest with no rows at all raises ManifestError.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(path, "manifest not found; pass the path of a .jsonl or .csv manifest")
    if path.suffix.lower() == ".csv":
        rows = _read_csv(path)
    elif path.suffix.lower() in (".jsonl", ".json"):
        rows = _read_jsonl(path)
    else:
        raise ManifestError(path, f"unsupported manifest type {path.suffix!r}; use .jsonl or .csv")
    samples: list[Sample] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    unknown: dict[str, list[int]] = {}
    for n, row in rows:
        if isinstance(row, str):
            problems.append(RowProblem(path, n, None, row))
            continue
        row, moved = fold_unknown(row)
        for name in moved:
            unknown.setdefault(name, []).append(n)
        sid = row.get("id") if isinstance(row.get("id"), str) and row["id"] else None
        try:
            sample = _sample(row, path.parent)
        except InvalidRecord as exc:
            problems.append(RowProblem(path, n, sid, str(exc).removeprefix(f"Sample {sid!r}: ")))
            continue
        if sample.id in seen:
            problems.append(
                RowProblem(
                    path,
                    n,
                    sample.id,
                    f"duplicate id, first used on row {seen[sample.id]}; ids must be unique",
                )
            )
            continue
        seen[sample.id] = n
        if check_audio and not sample.audio_path.is_file():
            problems.append(
                RowProblem(
                    path,
                    n,
                    sample.id,
                    f"audio file {sample.audio_path} not found; fix the path (relative to the manifest)",
                )
            )
            continue
        samples.append(sample)
    if not samples and not problems:
        raise ManifestError(
            path,
            "has no rows (it is empty, blank or only a CSV header); add one row per recording, "
            'e.g. {"id": "call-001", "audio": "audio/call-001.wav", "text": "thank you"}',
        )
    if strict and problems:
        raise ManifestError(path, problems)
    notes = tuple(f"{path}: {unknown_field_note(f, rows)}" for f, rows in unknown.items())
    for note in notes:
        warnings.warn(note, UnknownFieldWarning, stacklevel=2)
    return Manifest(path, tuple(samples), tuple(problems), notes)


def sample_to_row(sample: Sample, base: Path) -> dict[str, Any]:
    """A Sample as a manifest row with paths relative to `base` where possible."""

    def rel(p: str | Path) -> str:
        p = Path(p)
        try:
            return str(p.resolve().relative_to(base.resolve()))
        except ValueError:
            return str(p)

    meta = dict(sample.meta)
    row: dict[str, Any] = {
        "id": sample.id,
        "audio": rel(sample.audio_path),
        "text": sample.text,
        "language": sample.language,
    }
    for key in ("rttm", "stm", "ctm"):
        if f"{key}_path" in meta:
            row[key] = rel(meta.pop(f"{key}_path"))
    if sample.terms:
        row["terms"] = list(sample.terms)
    if sample.audio_url:
        row["audio_url"] = sample.audio_url
    if sample.channels:
        row["channels"] = list(sample.channels)
    if sample.tracks:
        row["tracks"] = {spk: rel(path) for spk, path in sample.tracks}
    if meta:
        row["meta"] = meta
    return row


def save_manifest(samples: Iterable[Sample], path: Path | str) -> Path:
    """Write samples as a JSONL manifest (paths relative to the manifest's folder)."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        for sample in samples:
            f.write(json.dumps(sample_to_row(sample, path.parent), ensure_ascii=False) + "\n")
    return path
