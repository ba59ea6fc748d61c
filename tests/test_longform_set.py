"""The long-form set: six recordings of real speech, each at least 2 minutes, compact, built
byte for byte the same by its make script (its audio is not committed), and an experiment that
uses it."""

from __future__ import annotations

import hashlib
import runpy
import warnings
from pathlib import Path

import pytest
import soundfile as sf

from stt_eval.datasets.manifest import load_manifest
from stt_eval.experiment import load_experiment

ROOT = Path(__file__).resolve().parent.parent
LONGFORM = ROOT / "datasets" / "longform"
MAKE = LONGFORM / "make_longform.py"


def _digests() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (LONGFORM / "audio").iterdir()
    }


@pytest.fixture(scope="module", autouse=True)
def _built():
    """The set as a user gets it: built by its script (under a second) where it is missing."""
    committed = (LONGFORM / "manifest.jsonl").read_text(encoding="utf-8")
    if not (LONGFORM / "audio").is_dir():
        runpy.run_path(str(MAKE), run_name="__main__")
    assert (LONGFORM / "manifest.jsonl").read_text(encoding="utf-8") == committed


def test_the_script_rebuilds_the_same_bytes():
    before = _digests()
    runpy.run_path(str(MAKE), run_name="__main__")
    assert _digests() == before and len(before) >= 6


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
