"""Importers: datasets in the field's formats read into :class:`~stt_eval.types.Sample`s.

Each format is one module, registered here by name; :func:`import_samples` reads one into a
:class:`~stt_eval.datasets.manifest.Manifest` (the valid samples and every bad row, with its
file and row), which :func:`~stt_eval.datasets.manifest.save_manifest` writes as our JSONL.
Rows that are slices of a longer recording carry ``offset_s`` / ``duration_s`` in ``meta``
(:mod:`stt_eval.datasets.importers.common`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from stt_eval.datasets.importers.audiofolder import read_audiofolder
from stt_eval.datasets.importers.common import ImporterUnavailable
from stt_eval.datasets.importers.kaldi import read_kaldi
from stt_eval.datasets.importers.lhotse import read_lhotse
from stt_eval.datasets.importers.nemo import read_nemo
from stt_eval.datasets.importers.stm import read_stm_dataset
from stt_eval.datasets.manifest import Manifest, ManifestError, load_manifest, save_manifest
from stt_eval.errors import UsageError

IMPORTERS: dict[str, Callable[..., Manifest]] = {
    "nemo": read_nemo,
    "kaldi": read_kaldi,
    "hf-audiofolder": read_audiofolder,
    "stm": read_stm_dataset,
    "lhotse": read_lhotse,
}
"""Format name → reader (``stt-eval import FORMAT PATH``)."""

FORMATS = tuple(IMPORTERS)
MANIFEST = "manifest"
"""Our own JSONL / CSV manifest: the default dataset format of an experiment."""
DATASET_FORMATS = (MANIFEST, *FORMATS)

__all__ = [
    "DATASET_FORMATS",
    "FORMATS",
    "MANIFEST",
    "IMPORTERS",
    "ImporterUnavailable",
    "UnknownFormat",
    "import_dataset",
    "import_samples",
    "read_dataset",
]


class UnknownFormat(UsageError):
    """A dataset format that no importer reads; the message lists the ones that exist."""


def import_samples(format: str, path: Path | str, *, check_audio: bool = True) -> Manifest:
    """Read a dataset in a named format (one of ``FORMATS``)."""
    if format not in IMPORTERS:
        raise UnknownFormat(
            f"unknown dataset format {format!r}; choose one of: {', '.join(FORMATS)}"
        )
    return IMPORTERS[format](path, check_audio=check_audio)


def read_dataset(path: Path | str, format: str = MANIFEST) -> Manifest:
    """A dataset as a run reads it: our manifest, or any importer's format read directly."""
    return load_manifest(path) if format == MANIFEST else import_samples(format, path)


def import_dataset(format: str, path: Path | str, output: Path | str) -> Manifest:
    """Read a dataset in a named format and write it as our JSONL manifest at ``output`` (paths
    relative to it). Returns what was read: the samples written and every row left out, with
    its file, row and reason. Raises ManifestError when no row could be imported."""
    manifest = import_samples(format, path)
    if not manifest.samples:
        raise ManifestError(Path(path), manifest.problems or "no rows to import")
    save_manifest(manifest.samples, output)
    return manifest
