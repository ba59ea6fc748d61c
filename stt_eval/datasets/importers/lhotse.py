"""Lhotse manifests (a CutSet, or recordings + supervisions), read through ``lhotse`` itself,
an optional extra (``pip install lhotse``): each supervision with text becomes a sample that is
a slice of its recording (``meta``: ``offset_s``, ``duration_s``, ``recording``, ``speaker``).
Only single-file recordings are supported (one audio source; a command or URL source is
reported).
"""

from __future__ import annotations

from pathlib import Path

from stt_eval.datasets.importers.common import ImporterUnavailable, Row, collect, slice_meta
from stt_eval.datasets.manifest import Manifest
from stt_eval.errors import BadInput
from stt_eval.types import InvalidRecord, Sample


def _lhotse():
    try:
        import lhotse
    except ImportError:
        raise ImporterUnavailable(
            "the lhotse importer needs the lhotse package, which is not installed",
            "pip install lhotse (or export the cuts to NeMo JSONL and import them as nemo)",
        ) from None
    return lhotse


def read_lhotse(path: Path | str, *, check_audio: bool = True) -> Manifest:
    """Samples of a lhotse CutSet manifest (``cuts.jsonl.gz`` and friends)."""
    lhotse = _lhotse()
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: lhotse manifest not found", "pass a cuts file (cuts.jsonl.gz)")
    try:
        cuts = lhotse.CutSet.from_file(path)
    except Exception as exc:  # noqa: BLE001 - lhotse's own words on a file that is not a CutSet
        raise BadInput(
            f"{path}: not a lhotse CutSet ({type(exc).__name__}: {exc})",
            "give a cuts manifest (cuts.jsonl.gz), or import the file in its own format",
        ) from None

    def build(cut, sup) -> Sample:
        sources = cut.recording.sources
        if len(sources) != 1 or sources[0].type != "file":
            raise InvalidRecord(
                f"recording {cut.recording.id!r} is not one audio file (sources: "
                f"{[s.type for s in sources]}); write it to a file first"
            )
        meta = slice_meta(round(cut.start + sup.start, 6), sup.duration, cut.recording.id)
        if sup.speaker:
            meta["speaker"] = sup.speaker
        return Sample(
            sup.id,
            Path(sources[0].source),
            sup.text or "",
            language=sup.language or "en",
            meta=meta,
        )

    def rows():
        n = 0
        for cut in cuts:
            for sup in cut.supervisions:
                n += 1
                yield Row(path, n, sup.id, lambda c=cut, s=sup: build(c, s))

    return collect(path, rows(), check_audio=check_audio)
