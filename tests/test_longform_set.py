"""The bundled long-form set: six recordings of real speech, each at least 2 minutes, compact,
rebuilt exactly by its make script, and an experiment that uses it."""

from __future__ import annotations

import warnings
from pathlib import Path

import soundfile as sf

from stt_eval.datasets.manifest import load_manifest
from stt_eval.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent
LONGFORM = ROOT / "datasets" / "longform"


def test_six_recordings_of_two_minutes_or_more_under_15_mb():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no row problem, no unknown field
        manifest = load_manifest(LONGFORM / "manifest.jsonl", strict=True)
    samples = list(manifest.samples)
    assert len(samples) >= 6
    for s in samples:
        info = sf.info(str(s.audio_path))
        assert (info.samplerate, info.channels, info.format) == (16000, 1, "FLAC")
        assert info.duration >= 120.0, s.id
        assert abs(info.duration - s.meta["duration_s"]) < 0.01
        assert len(s.text.split()) > 200
    size = sum(p.stat().st_size for p in (LONGFORM / "audio").iterdir())
    assert size < 15e6


def test_the_longform_experiment_reads_the_set():
    exp = load_experiment(ROOT / "experiments" / "longform.toml")
    assert exp.dataset == (LONGFORM / "manifest.jsonl").resolve()
    assert "none" in exp.chunking and len(exp.chunking) > 2
