"""A fault soak: over a thousand requests to a loopback provider, a fifth of them faulty (429,
5xx, timeouts, broken JSON). Every unit must end as a scored row or a failure row with its
reason, none lost, retries recorded, and the budget never exceeded."""

from __future__ import annotations

import json
import random

import pytest
import soundfile as sf

from stt_eval.audio.load import load_audio
from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.run.grid import run_experiment
from stt_eval.testing.openai import openai_fault, openai_server
from stt_eval.testing.server import Fault
from stt_eval.types import Transcript, Word

from .conftest import SAMPLE

KEY = "sk-soak"
CLIPS = 260
CONDITIONS = ("clean", "gain(db=-3)", "gain(db=-6)", "noise(kind=white, snr_db=30)")


def _model(audio: bytes, request) -> Transcript:
    return Transcript("ask not", (Word("ask", 0.1, 0.4, 0.9), Word("not", 0.4, 0.7, 0.8)))


def _faults(n: int, rng: random.Random) -> list[Fault]:
    kinds = [
        openai_fault(429, retry_after="0"),
        openai_fault(429),
        openai_fault(500),
        openai_fault(503),
        Fault(delay_s=0.4),  # longer than the read timeout below: the client times out
        Fault(truncate=True),
        Fault(invalid_json=True),
    ]
    return [rng.choice(kinds) if rng.random() < 0.2 else Fault() for _ in range(n)]


@pytest.mark.slow
def test_a_thousand_requests_with_a_fifth_faulty_lose_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    jfk = load_audio(SAMPLE / "audio" / "whisper_jfk.flac")
    rows = []
    for i in range(CLIPS):
        clip = jfk.slice(i % 10, i % 10 + 1.0).samples.copy()
        clip[0] = (i + 1) / 32768.0  # every clip different: nothing is a cache hit
        sf.write(tmp_path / f"c{i}.wav", clip, 16000, subtype="PCM_16")
        rows.append({"id": f"c{i}", "audio": f"c{i}.wav", "text": "ask not"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    units = CLIPS * len(CONDITIONS)
    with openai_server(_model, api_key=KEY) as server:
        server.inject(*_faults(3 * units, random.Random(11)))
        options = {
            "base_url": server.url + "/v1",
            "min_wait_s": 0.0,
            "max_wait_s": 0.0,
            "read_timeout_s": 0.2,
            "price_per_minute": 0.006,
            "max_attempts": 4,
        }
        exp = Experiment(
            dataset=tmp_path / "m.jsonl",
            providers=(ProviderSpec("openai", tuple(options.items())),),
            conditions=CONDITIONS,
            output=tmp_path / "r",
            name="soak",
            budget_usd=1.0,
        )
        result = run_experiment(exp, progress=False, cache_root=tmp_path / "cache")
        sent = len(server.requests)
    assert sent >= 1000
    assert len(result.rows) == units  # none lost
    cells = {(r.identity.sample_id, r.identity.condition) for r in result.rows}
    assert len(cells) == units and {s for s, _ in cells} == {f"c{i}" for i in range(CLIPS)}
    ok = [r for r in result.rows if r.status == "ok"]
    failed = [r for r in result.rows if r.status == "failed"]
    assert all(r.error and "openai" in r.error for r in failed)
    assert all(
        r.columns()["ref_words"] == 2 and r.columns()["hits"] == 2 for r in ok
    )  # never an empty transcript
    retried = sum(r.measurement.attempts - 1 for r in ok)
    assert retried > 0.1 * len(ok)  # the faults were met and retried, and it shows
    # each transcription's attempts add up to what the server received
    assert sum(r.measurement.attempts for r in ok) + sum(1 for _ in failed) <= sent
    assert sum(r.measurement.cost_usd for r in ok) <= exp.budget_usd
    assert len(ok) >= 0.95 * units
