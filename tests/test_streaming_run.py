"""A streaming run end to end against a loopback Deepgram live server: the grid sends the
sample's conditioned audio as paced frames, the row holds the scripted text and its latencies,
and the key is in nothing the run leaves."""

from __future__ import annotations

import json
import shutil

import pytest

from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.run.grid import run_experiment
from stt_eval.testing.live.deepgram import deepgram_live_server
from stt_eval.testing.live.script import script_from_words
from stt_eval.types import Word

from .conftest import SAMPLE

KEY = "sk-live-loopback-secret-77"
TEXT = "go forward ten meters"


def test_a_streaming_cell_runs_through_the_grid_against_a_live_server(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGRAM_API_KEY", KEY)
    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "g.flac")
    row = {"id": "g", "audio": "g.flac", "text": TEXT}
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    words = [Word(w, 0.3 + 0.4 * i, 0.6 + 0.4 * i) for i, w in enumerate(TEXT.split())]
    script = script_from_words(words, partial_delay_s=0.2, final_delay_s=0.4, words_per_final=2)
    with deepgram_live_server(script, api_key=KEY, max_rate=None) as server:
        exp = Experiment(
            dataset=tmp_path / "m.jsonl",
            providers=(ProviderSpec("deepgram", (("base_url", "http" + server.url[2:]),)),),
            mode=("streaming",),
            pace=10,
            workers=1,
            output=tmp_path / "r",
            name="live",
        )
        result = run_experiment(exp, cache_root=tmp_path / "cache", progress=False)
    (got,) = result.rows
    columns = got.columns()
    assert got.status == "ok", got.error
    assert columns["mode"] == "streaming" and columns["provider"] == "deepgram (streaming)"
    assert columns["hypothesis"] == TEXT and columns["subs"] == columns["dels"] == 0
    streamed_minutes = columns["audio_s"] / 60  # at Deepgram's streaming list price, not batch
    assert columns["cost_usd"] == pytest.approx(0.0059 * streamed_minutes)
    (first_partial,) = columns["first_partial_s"]  # the script's first partial: 0.2 s after 0.6 s
    assert first_partial == pytest.approx(0.8, abs=0.1)
    for path in [*(tmp_path / "r").rglob("*"), *(tmp_path / "cache").rglob("*")]:
        if path.is_file():
            assert KEY not in path.read_text(errors="replace"), path
