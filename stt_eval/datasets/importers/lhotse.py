"""Lhotse manifests (a CutSet, or recordings + supervisions), read through ``lhotse`` itself,
an optional extra (``pip install lhotse``): each supervision with text becomes a sample that is
a slice of its recording (``meta``: ``offset_s``, ``duration_s``, ``recording``, ``speaker``).
Only single-file recordings are supported (one audio source; a command or URL source is
reported).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from stt_eval.datasets.importers.common import ImporterUnavailable, Row, collect, slice_meta
from stt_eval.datasets.manifest import Manifest, ManifestError
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


_NOT_CUTS = (TypeError, KeyError, ValueError, AttributeError, AssertionError)
"""What lhotse raises on a JSONL that is not a CutSet (a row missing a field, another schema)."""


def _cuts(lhotse, path: Path) -> Iterator:
    """The cuts of a CutSet file, one clear ManifestError if it is not one (lhotse itself
    raises ``TypeError: MonoCut.__init__() missing 3 required positional arguments``)."""
    try:
        yield from lhotse.CutSet.from_file(path)
    except FileNotFoundError:
        raise ManifestError(path, "not found; pass the lhotse cuts manifest") from None
    except _NOT_CUTS as exc:
        raise ManifestError(
            path,
            f"is not a lhotse CutSet ({type(exc).__name__}: {exc}); pass a cuts manifest "
            "(e.g. cuts.jsonl.gz, from CutSet.to_file), or use --format nemo for NeMo JSONL; "
            "a stt-eval manifest needs no import",
        ) from None


def read_lhotse(path: Path | str, *, check_audio: bool = True) -> Manifest:
    """Samples of a lhotse CutSet manifest (``cuts.jsonl.gz`` and friends)."""
    path = Path(path)
    cuts = _cuts(_lhotse(), path)

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
