"""The notebooks CI executes: each starts with a parameters cell, none carries outputs in git,
and the small real run they share has what every notebook plots."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from stt_eval.datasets.manifest import load_manifest
from stt_eval.experiment import load_experiment

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_notebooks_are_the_ones_the_readme_names():
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_noise_and_telephony",
        "03_chunking_and_overlap",
        "04_diarization",
        "05_providers_speed_cost",
        "06_error_analysis",
        "07_streaming",
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(name in readme for name in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_starts_with_its_parameters_and_has_no_outputs(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    assert "RUN = None" in "".join(code[0]["source"])
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)


def test_the_ci_run_has_what_every_notebook_plots():
    exp = load_experiment(ROOT / "experiments" / "ci.toml")
    assert {p.name for p in exp.providers} >= {"faster-whisper", "pocketsphinx"}
    assert "clean" in exp.conditions and "telephony(codec=ulaw, loss=0)" in exp.conditions
    assert sum(c.startswith("noise(kind=white") for c in exp.conditions) == 2  # a line, not a dot
    assert "none" in exp.chunking and len(exp.chunking) == 2
    assert exp.diarizers == ("senko",)
    samples = {s.id: s for s in load_manifest(exp.dataset).samples}
    chosen = [samples[i] for i in exp.ids]
    assert any(s.meta.get("speakers") == 2 and s.turns for s in chosen)  # DER has a file
    # small enough for CI: under a minute of audio per condition
    assert sum(sf.info(s.audio_path).duration for s in chosen) < 60


def test_the_streaming_run_streams_both_local_engines_under_three_conditions():
    """Notebook 07 runs experiments/streaming.toml when the run it is given streamed nothing."""
    exp = load_experiment(ROOT / "experiments" / "streaming.toml")
    assert exp.mode == ("batch", "streaming") and exp.pace == "fast"
    assert {p.name for p in exp.providers} == {"faster-whisper", "pocketsphinx"}
    assert len(exp.conditions) == 3
    samples = load_manifest(exp.dataset).samples
    assert all(s.ref_words for s in samples)  # per-word latency has word times
    assert sum(sf.info(s.audio_path).duration for s in samples) < 20
