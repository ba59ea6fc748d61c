"""sclite STM as a dataset: every reference segment becomes a sample that is a slice of its
recording (``meta``: ``offset_s``, ``duration_s``, ``recording``, ``speaker``).

STM does not name audio files: the recording ``<file id>`` is looked for next to the STM as
``<file id>.wav`` (or .flac, .sph, .mp3, ...). Excluded segments (``inter_segment_gap``,
``ignore_time_segment_in_scoring``) are skipped, as sclite does; a segment with no words is
reported. A sample's id is ``<file id>-<start cs>-<end cs>`` (times in centiseconds, zero-padded,
so ids sort by time).
"""

from __future__ import annotations

from pathlib import Path

from stt_eval.datasets.annotations import AnnotationError, read_stm
from stt_eval.datasets.importers.common import Row, collect, find_audio, slice_meta
from stt_eval.datasets.manifest import Manifest, ManifestError, RowProblem
from stt_eval.types import InvalidRecord, Sample


def segment_id(file_id: str, start: float, end: float) -> str:
    """The id of an STM segment: ``file-start-end`` in centiseconds."""
    return f"{file_id}-{round(start * 100):07d}-{round(end * 100):07d}"


def read_stm_dataset(path: Path | str, *, check_audio: bool = True) -> Manifest:
    """Samples of an STM file, one per scored segment; problems per segment."""
    path = Path(path)
    try:
        by_file = read_stm(path)
    except AnnotationError as exc:
        raise ManifestError(path, str(exc)) from None

    def build(fid: str, seg) -> Sample:
        audio = find_audio(path.parent, fid)
        if audio is None:
            raise InvalidRecord(
                f"no audio {fid}.wav (or .flac, .sph, ...) next to the STM; put the recording "
                "there, named after the STM's file id"
            )
        meta = slice_meta(seg.start, round(seg.end - seg.start, 6), fid)
        meta["speaker"] = seg.speaker
        return Sample(segment_id(fid, seg.start, seg.end), audio, seg.text, meta=meta)

    def rows():
        n = 0
        for fid, segments in by_file.items():
            for seg in segments:
                n += 1
                sid = segment_id(fid, seg.start, seg.end)
                if not seg.text.strip():
                    yield RowProblem(path, n, sid, "segment has no words; not a sample")
                    continue
                yield Row(path, n, sid, lambda f=fid, s=seg: build(f, s))

    return collect(path, rows(), check_audio=check_audio)
