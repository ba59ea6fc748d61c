"""Read the NIST annotation formats: RTTM, STM, CTM and UEM (written by
:mod:`stt_eval.datasets.annotation_writers`).

Each reader returns ``{file_id: tuple(records sorted by time)}`` and is strict: a wrong column
count, a non-numeric time, a non-positive duration, a file id outside ``known_ids`` (from
``known_from``, "the manifest" unless told) or a UEM with no region raises
:class:`AnnotationError` naming the file, the line number and the fix. A silently mis-parsed
reference would corrupt every score computed from it, so nothing is guessed.

Formats (whitespace-separated columns; ``;;`` starts a comment line; blank lines are ignored):

- RTTM (10 columns): ``SPEAKER file chnl tbeg tdur <NA> <NA> name <NA> <NA>``. Only ``SPEAKER``
  rows carry turns; the other NIST RTTM types (``SPKR-INFO``, ``LEXEME``, ...) are skipped.
  Overlapping turns of one speaker are merged into one, with a warning, so their overlap is not
  counted twice; touching turns are kept as written (md-eval puts a collar at their boundary).
- STM: ``file chnl speaker tbeg tend [<labels>] text...``. Segments whose speaker is
  ``inter_segment_gap`` or whose text is ``ignore_time_segment_in_scoring`` are excluded
  (sclite's convention).
- CTM: ``file chnl tbeg tdur word [conf]`` (5 or 6 columns); ``conf`` may be ``NA``/``<NA>``.
  Zero-duration words are allowed (aligners emit them), negative ones are not.
- UEM: ``file chnl tbeg tend``: the regions to score. Overlapping or touching regions are merged.

Channels are read but not kept: stt-eval scores one channel per recording.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Iterator
from pathlib import Path

from stt_eval.datasets.text import UnreadableText, read_lines
from stt_eval.errors import SttEvalError
from stt_eval.metrics.intervals import merge_regions, merge_turns, same_speaker_overlaps
from stt_eval.types import InvalidRecord, SpeakerSegment, SpeakerTurn, Word

RTTM_COLUMNS = 10
RTTM_OTHER_TYPES = frozenset(
    {
        "SEGMENT",
        "NOSCORE",
        "NO_RT_METADATA",
        "LEXEME",
        "NON-LEX",
        "NON-SPEECH",
        "FILLER",
        "EDIT",
        "IP",
        "SU",
        "CB",
        "A/P",
        "SPKR-INFO",
    }
)
"""RTTM row types other than SPEAKER: valid, but they carry no speaker turns, so are skipped."""

STM_EXCLUDED_SPEAKERS = frozenset({"inter_segment_gap"})
STM_EXCLUDED_TEXT = "ignore_time_segment_in_scoring"
_NA = frozenset({"NA", "<NA>"})


class AnnotationError(SttEvalError, ValueError):
    """An annotation file has a line that cannot be trusted; the message names it and the fix."""

    def __init__(self, path: Path | str, line_no: int | None, problem: str, fix: str) -> None:
        self.path = str(path)
        self.line_no = line_no
        self.problem = problem
        self.fix = fix
        where = f"{path}:{line_no}" if line_no is not None else str(path)
        super().__init__(f"{where}: {problem}", fix)


# --------------------------------------------------------------------------- line parsing


def _lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(1-based line number, fields) of every non-blank, non-comment line of a UTF-8 file (a BOM
    is removed with a warning; another encoding names the line and byte offset)."""
    try:
        lines = read_lines(path)
    except FileNotFoundError:
        raise AnnotationError(path, None, "file not found", "check the path") from None
    except UnreadableText as exc:
        at = f" (byte offset {exc.offset})" if exc.offset is not None else ""
        raise AnnotationError(path, exc.line, f"{exc.problem}{at}", exc.fix) from None
    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(";;"):
            continue
        yield no, stripped.split()


def _number(path: Path, no: int, name: str, value: str) -> float:
    try:
        out = float(value)
    except ValueError:
        raise AnnotationError(
            path, no, f"{name}={value!r} is not a number", f"write {name} in seconds, e.g. 12.345"
        ) from None
    if not math.isfinite(out) or out < 0:
        raise AnnotationError(
            path,
            no,
            f"{name}={value!r} must be a finite, non-negative number of seconds",
            f"fix {name} on this line",
        )
    return out


def _end(start: float, duration: float) -> float:
    """start + duration without float dust (1.49 + 84.451 is 85.94099999999999 otherwise), so a
    file written and read back gives identical turns."""
    return round(start + duration, 9)


def some_ids(ids: Collection[str], shown: int = 5) -> str:
    """A few of a collection's ids for a message: ``'a', 'b', ... (7 ids)``."""
    first = ", ".join(repr(i) for i in sorted(ids)[:shown])
    return f"{first}, ... ({len(ids)} ids)" if len(ids) > shown else first or "none"


def _check_id(
    path: Path, no: int, file_id: str, known_ids: Collection[str] | None, known_from: str
) -> None:
    if known_ids is not None and file_id not in known_ids:
        raise AnnotationError(
            path,
            no,
            f"file id {file_id!r} is not in {known_from} (its ids: {some_ids(known_ids)})",
            f"rename the id to match {known_from}, or drop these lines",
        )


def check_ids_held(
    path: Path | str, kind: str, wanted: Collection[str], held: Collection[str]
) -> None:
    """AnnotationError naming the ids an annotation file holds when it has no line for some
    id it is meant to describe (the file of another recording, or a misspelt id)."""
    missing = [i for i in wanted if i not in held]
    if missing:
        raise AnnotationError(
            path,
            None,
            f"no {kind} line for {some_ids(missing)}; the file holds {some_ids(held)}",
            f"write each recording's id in the file id column of its {kind} lines",
        )


def _merge_same_speaker(path: Path, turns: list[SpeakerTurn]) -> tuple[SpeakerTurn, ...]:
    """Sort turns and merge overlapping turns of one speaker (their overlap would count twice),
    warning once. Touching turns stay apart: md-eval puts a collar at every boundary as written,
    so the annotator's boundary still matters to DER with a collar (see :mod:`stt_eval.metrics.intervals`).
    """
    overlaps = same_speaker_overlaps(turns)
    if overlaps:
        first = overlaps[0]
        warnings.warn(
            f"{path}: merged {len(overlaps)} stretch(es) of overlapping turns of one speaker "
            f"(first: {first.speaker} {first.start:g}-{first.end:g}) so their overlap is not "
            "counted twice; fix the RTTM to silence this",
            stacklevel=3,
        )
    return merge_turns(turns, keep_touching=True)


# --------------------------------------------------------------------------- RTTM


def read_rttm(
    path: Path | str, known_ids: Collection[str] | None = None, known_from: str = "the manifest"
) -> dict[str, tuple[SpeakerTurn, ...]]:
    """Speaker turns of an RTTM file, by file id, sorted by start time.

    Raises :class:`AnnotationError` for a row without exactly 10 columns, a non-numeric or
    negative time, a duration <= 0, an unknown row type, or a file id not in `known_ids`
    (when given). Overlapping turns of one speaker are merged with a warning; touching ones are
    kept as written.
    """
    path = Path(path)
    raw: dict[str, list[SpeakerTurn]] = {}
    for no, fields in _lines(path):
        if len(fields) != RTTM_COLUMNS:
            raise AnnotationError(
                path,
                no,
                f"{len(fields)} columns, RTTM needs exactly {RTTM_COLUMNS}",
                "write 'SPEAKER <file> <chnl> <tbeg> <tdur> <NA> <NA> <speaker> <NA> <NA>'",
            )
        kind, file_id = fields[0], fields[1]
        if kind in RTTM_OTHER_TYPES:
            continue
        if kind != "SPEAKER":
            raise AnnotationError(
                path, no, f"unknown RTTM type {kind!r}", "the first column must be SPEAKER"
            )
        _check_id(path, no, file_id, known_ids, known_from)
        start = _number(path, no, "tbeg", fields[3])
        duration = _number(path, no, "tdur", fields[4])
        if duration <= 0:
            raise AnnotationError(
                path,
                no,
                f"tdur={fields[4]} must be > 0 (column 5 is a duration, not an end time)",
                "drop the empty turn or fix its duration",
            )
        speaker = fields[7]
        if speaker in _NA:
            raise AnnotationError(path, no, "speaker name is <NA>", "put the speaker in column 8")
        raw.setdefault(file_id, []).append(SpeakerTurn(speaker, start, _end(start, duration)))
    return {fid: _merge_same_speaker(path, turns) for fid, turns in raw.items()}


# --------------------------------------------------------------------------- STM


def read_stm(
    path: Path | str, known_ids: Collection[str] | None = None, known_from: str = "the manifest"
) -> dict[str, tuple[SpeakerSegment, ...]]:
    """Reference segments of an STM file, by file id, sorted by start time.

    Excluded segments (speaker ``inter_segment_gap`` or text ``ignore_time_segment_in_scoring``)
    are skipped, as sclite does. An optional ``<...>`` label column after the times is dropped.
    """
    path = Path(path)
    out: dict[str, list[SpeakerSegment]] = {}
    for no, fields in _lines(path):
        if len(fields) < 5:
            raise AnnotationError(
                path,
                no,
                f"{len(fields)} columns, STM needs at least 5",
                "write '<file> <chnl> <speaker> <tbeg> <tend> [<labels>] <text>'",
            )
        file_id, _chnl, speaker = fields[0], fields[1], fields[2]
        start = _number(path, no, "tbeg", fields[3])
        end = _number(path, no, "tend", fields[4])
        if end < start:
            raise AnnotationError(
                path,
                no,
                f"tend={fields[4]} is before tbeg={fields[3]}",
                "column 5 of STM is the end time; fix or swap the times",
            )
        rest = fields[5:]
        if rest and rest[0].startswith("<") and rest[0].endswith(">"):
            rest = rest[1:]
        text = " ".join(rest)
        if speaker.lower() in STM_EXCLUDED_SPEAKERS or text.lower() == STM_EXCLUDED_TEXT:
            continue
        _check_id(path, no, file_id, known_ids, known_from)
        out.setdefault(file_id, []).append(SpeakerSegment(speaker, start, end, text))
    return {
        fid: tuple(sorted(segs, key=lambda s: (s.start, s.end, s.speaker)))
        for fid, segs in out.items()
    }


# --------------------------------------------------------------------------- CTM


def read_ctm(
    path: Path | str, known_ids: Collection[str] | None = None, known_from: str = "the manifest"
) -> dict[str, tuple[Word, ...]]:
    """Timed words of a CTM file, by file id, sorted by start time (speaker is None)."""
    path = Path(path)
    out: dict[str, list[Word]] = {}
    for no, fields in _lines(path):
        if len(fields) not in (5, 6):
            raise AnnotationError(
                path,
                no,
                f"{len(fields)} columns, CTM needs 5 or 6",
                "write '<file> <chnl> <tbeg> <tdur> <word> [<confidence>]'",
            )
        file_id = fields[0]
        _check_id(path, no, file_id, known_ids, known_from)
        start = _number(path, no, "tbeg", fields[2])
        duration = _number(path, no, "tdur", fields[3])
        confidence = None
        if len(fields) == 6 and fields[5] not in _NA:
            confidence = _number(path, no, "confidence", fields[5])
        try:
            word = Word(fields[4], start, _end(start, duration), confidence)
        except InvalidRecord as exc:
            raise AnnotationError(path, no, str(exc), "fix this line") from None
        out.setdefault(file_id, []).append(word)
    return {fid: tuple(sorted(ws, key=lambda w: (w.start, w.end))) for fid, ws in out.items()}


# --------------------------------------------------------------------------- UEM


def read_uem(
    path: Path | str, known_ids: Collection[str] | None = None, known_from: str = "the manifest"
) -> dict[str, tuple[tuple[float, float], ...]]:
    """Scoring regions of a UEM file, by file id, sorted and merged where they overlap or touch."""
    path = Path(path)
    out: dict[str, list[tuple[float, float]]] = {}
    for no, fields in _lines(path):
        if len(fields) != 4:
            raise AnnotationError(
                path,
                no,
                f"{len(fields)} columns, UEM needs exactly 4",
                "write '<file> <chnl> <tbeg> <tend>'",
            )
        file_id = fields[0]
        _check_id(path, no, file_id, known_ids, known_from)
        start = _number(path, no, "tbeg", fields[2])
        end = _number(path, no, "tend", fields[3])
        if end <= start:
            raise AnnotationError(
                path,
                no,
                f"tend={fields[3]} is not after tbeg={fields[2]}",
                "column 4 of UEM is the end time; give each region a positive length",
            )
        out.setdefault(file_id, []).append((start, end))
    if not out:  # not "no UEM": scoring nothing, or everything, is never what an empty file meant
        raise AnnotationError(
            path,
            None,
            "holds no scoring region",
            "write one '<file> <chnl> <tbeg> <tend>' line per region, or give no UEM to score "
            "each file from its first to its last reference turn",
        )
    return {fid: merge_regions(spans) for fid, spans in out.items()}
