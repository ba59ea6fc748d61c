"""Write the NIST annotation formats (RTTM, STM, CTM, UEM) that
:mod:`stt_eval.datasets.annotations` reads: files in id order, records by time, seconds with 3
decimals when exact (the NIST habit), ids and labels without whitespace (a column format)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from stt_eval.errors import BadInput
from stt_eval.metrics.intervals import merge_regions
from stt_eval.types import SpeakerSegment, SpeakerTurn, Word


def _fmt(x: float) -> str:
    """Seconds with 3 decimals when exact (the NIST habit), else up to 6."""
    return f"{x:.3f}" if abs(x - round(x, 3)) < 1e-9 else f"{x:.6f}".rstrip("0")


def _write(path: Path | str, lines: Iterable[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _check_token(kind: str, value: str, fix: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise BadInput(f"{kind} {value!r} is empty or contains whitespace", fix)
    return value


def write_rttm(
    turns_by_file: Mapping[str, Iterable[SpeakerTurn]], path: Path | str, channel: str = "1"
) -> Path:
    """Write speaker turns as RTTM (one SPEAKER row per turn, files in id order)."""

    def rows() -> Iterator[str]:
        for fid in sorted(turns_by_file):
            _check_token("file id", fid, "use ids without spaces")
            for t in sorted(turns_by_file[fid], key=lambda t: (t.start, t.end, t.speaker)):
                _check_token("speaker", t.speaker, "use speaker labels without spaces")
                yield (
                    f"SPEAKER {fid} {channel} {_fmt(t.start)} {_fmt(t.end - t.start)} "
                    f"<NA> <NA> {t.speaker} <NA> <NA>"
                )

    return _write(path, rows())


def write_stm(
    segments_by_file: Mapping[str, Iterable[SpeakerSegment]], path: Path | str, channel: str = "1"
) -> Path:
    """Write reference segments as STM, files in id order, segments by start time."""

    def rows() -> Iterator[str]:
        for fid in sorted(segments_by_file):
            _check_token("file id", fid, "use ids without spaces")
            for s in sorted(segments_by_file[fid], key=lambda s: (s.start, s.end, s.speaker)):
                _check_token("speaker", s.speaker, "use speaker labels without spaces")
                text = " ".join(s.text.split())
                yield f"{fid} {channel} {s.speaker} {_fmt(s.start)} {_fmt(s.end)} {text}".rstrip()

    return _write(path, rows())


def write_ctm(
    words_by_file: Mapping[str, Iterable[Word]],
    path: Path | str,
    channel: str = "1",
    comment: str = "",
) -> Path:
    """Write timed words as CTM (6 columns when any word of a file has a confidence), after a
    ``;;`` comment line when given (where the times came from)."""

    def rows() -> Iterator[str]:
        if comment:
            yield ";; " + " ".join(comment.split())
        for fid in sorted(words_by_file):
            _check_token("file id", fid, "use ids without spaces")
            ws = sorted(words_by_file[fid], key=lambda w: (w.start, w.end))
            with_conf = any(w.confidence is not None for w in ws)
            for w in ws:
                _check_token("word", w.text, "split multi-word tokens before writing CTM")
                row = f"{fid} {channel} {_fmt(w.start)} {_fmt(w.end - w.start)} {w.text}"
                if with_conf:
                    row += " NA" if w.confidence is None else f" {w.confidence:g}"
                yield row

    return _write(path, rows())


def write_uem(
    regions_by_file: Mapping[str, Iterable[tuple[float, float]]],
    path: Path | str,
    channel: str = "1",
) -> Path:
    """Write scoring regions as UEM, files in id order."""

    def rows() -> Iterator[str]:
        for fid in sorted(regions_by_file):
            _check_token("file id", fid, "use ids without spaces")
            for start, end in merge_regions(regions_by_file[fid]):
                yield f"{fid} {channel} {_fmt(start)} {_fmt(end)}"

    return _write(path, rows())
