"""What every importer shares: turning foreign rows into :class:`Sample`s, collecting every bad
row as a :class:`RowProblem` (never stopping at the first), and the slice convention.

A row that is a slice of a longer recording (a Kaldi ``segments`` line, a NeMo row with an
``offset``, an STM segment) keeps the whole recording as its audio and records the span in
``meta``: ``offset_s`` (seconds from the start of the file) and ``duration_s``. The pipeline
(:meth:`stt_eval.pipeline.prepare.Recording.of`) hears only ``[offset_s, offset_s + duration_s)``, and
the span is part of the sample's digest; ``meta["recording"]`` names the recording it comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stt_eval.datasets.manifest import Manifest, ManifestError, RowProblem
from stt_eval.errors import MissingExtra
from stt_eval.types import InvalidRecord, Sample

OFFSET_KEY = "offset_s"
DURATION_KEY = "duration_s"
RECORDING_KEY = "recording"
AUDIO_SUFFIXES = (".wav", ".flac", ".sph", ".mp3", ".ogg", ".opus", ".m4a")


class ImporterUnavailable(MissingExtra, ValueError):
    """The importer needs an optional package that is not installed; says what to install."""


@dataclass(frozen=True)
class Row:
    """One foreign row to import: where it is (``row`` is 1-based, as an editor shows it), the id
    if known (for messages), and how to build its Sample (raising InvalidRecord when it cannot)."""

    path: Path
    row: int
    sample_id: str | None
    build: Callable[[], Sample]


def slice_meta(offset: Any, duration: Any, recording: str | None = None) -> dict[str, Any]:
    """The meta of a slice, checked: non-negative offset, positive duration (seconds)."""
    for name, value in (("offset", offset), ("duration", duration)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise InvalidRecord(f"{name}={value!r} must be a non-negative number of seconds")
    if duration <= 0:
        raise InvalidRecord(f"duration={duration!r} must be > 0 seconds; drop the empty slice")
    meta: dict[str, Any] = {OFFSET_KEY: float(offset), DURATION_KEY: float(duration)}
    if recording is not None:
        meta[RECORDING_KEY] = recording
    return meta


def scalar_meta(row: dict[str, Any], skip: Iterable[str]) -> dict[str, Any]:
    """The row's other fields whose values can be table columns (strings, numbers, booleans)."""
    skipped = set(skip)
    return {
        k: v
        for k, v in row.items()
        if k not in skipped and (v is None or isinstance(v, (str, int, float, bool)))
    }


def find_audio(folder: Path, stem: str) -> Path | None:
    """The audio file named ``stem`` with a known audio suffix in ``folder``, if any."""
    for suffix in AUDIO_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def collect(
    source: Path, rows: Iterable[Row | RowProblem], *, check_audio: bool = True
) -> Manifest:
    """Build every row, collecting all problems (bad values, duplicate ids, missing audio) at
    once, as :func:`stt_eval.datasets.manifest.load_manifest` does; no rows at all is an error."""
    samples: list[Sample] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for item in rows:
        if isinstance(item, RowProblem):
            problems.append(item)
            continue
        try:
            sample = item.build()
        except InvalidRecord as exc:
            message = str(exc).removeprefix(f"Sample {item.sample_id!r}: ")
            problems.append(RowProblem(item.path, item.row, item.sample_id, message))
            continue
        if sample.id in seen:
            problems.append(
                RowProblem(
                    item.path,
                    item.row,
                    sample.id,
                    f"duplicate id, first made on row {seen[sample.id]}; give the rows distinct "
                    "ids (or audio file names)",
                )
            )
            continue
        seen[sample.id] = item.row
        if check_audio and not sample.audio_path.is_file():
            problems.append(
                RowProblem(
                    item.path,
                    item.row,
                    sample.id,
                    f"audio file {sample.audio_path} not found; fix the path or copy the audio",
                )
            )
            continue
        samples.append(sample)
    if not samples and not problems:
        raise ManifestError(source, "has no rows to import; check you passed the right path")
    return Manifest(source, tuple(samples), tuple(problems))
