"""Reference word times for a manifest: each reference aligned to its clean audio by a forced
aligner, written as CTM files and a manifest that names them (``stt-eval align``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from stt_eval.audio.load import load_audio
from stt_eval.datasets.annotation_writers import write_ctm
from stt_eval.datasets.manifest import load_manifest, save_manifest
from stt_eval.providers.pocketsphinx_align import align_reference, aligner_name


def align_manifest(manifest: Path, out: Path) -> Path:
    """Every sample without a ``ctm`` aligned by PocketSphinx, written as ``ctm/<id>.ctm`` beside
    ``out``; ``out`` is the manifest with the ``ctm`` field and ``meta.ref_words_by`` naming the
    aligner (and the words it left out, in the CTM's comment)."""
    samples = []
    for sample in load_manifest(manifest, strict=True).samples:
        if "ctm_path" not in sample.meta:
            aligned = align_reference(load_audio(sample.audio_path), sample.text)
            said = aligner_name()
            if aligned.left_out:
                said += f"; left out (not in its dictionary): {' '.join(aligned.left_out)}"
            ctm = write_ctm(
                {sample.id: aligned.words}, out.parent / "ctm" / f"{sample.id}.ctm", comment=said
            )
            meta = {**sample.meta, "ctm_path": str(ctm), "ref_words_by": aligner_name()}
            sample = replace(sample, meta=meta, ref_words=aligned.words)
        samples.append(sample)
    return save_manifest(samples, out)
