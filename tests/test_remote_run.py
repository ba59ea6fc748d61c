"""Whole runs against real loopback servers: faults end as retries or failure rows, nothing is
sent before the checks, nothing is paid twice, and the key is nowhere in what a run leaves."""

from __future__ import annotations

import json
import logging
import shutil
import warnings

import pytest

from stt_eval.api import report
from stt_eval.datasets.manifest import RowProblemWarning, UnknownFieldWarning
from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec, experiment_from_dict
from stt_eval.providers.errors import AuthError
from stt_eval.providers.prices import OverBudget
from stt_eval.report.summary import write_summary
from stt_eval.run.grid import run_experiment
from stt_eval.testing.deepgram import deepgram_server
from stt_eval.testing.openai import faster_whisper_backend, openai_fault, openai_server
from stt_eval.types import Transcript, Word

from .conftest import SAMPLE

KEY = "sk-loopback-secret-42"
TEXT = {"jfk": "and so my fellow americans", "goforward": "go forward ten meters"}


def _heard(audio: bytes, request) -> Transcript:
    """A fixed "model": the same four words whatever it hears."""
    words = (
        Word("go", 0.1, 0.3, 0.9),
        Word("forward", 0.3, 0.7, 0.8),
        Word("ten", 0.8, 1.0, 0.9),
        Word("meters", 1.0, 1.4, 0.95),
    )
    return Transcript("go forward ten meters", words, language="en")


@pytest.fixture
def dataset(tmp_path):
    rows = []
    for sid, name in (("jfk", "whisper_jfk.flac"), ("goforward", "pocketsphinx_goforward.flac")):
        shutil.copy(SAMPLE / "audio" / name, tmp_path / name)
        rows.append(
            {
                "id": sid,
                "audio": name,
                "text": TEXT[sid],
                "audio_url": f"https://example.com/{name}",
            }
        )
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "m.jsonl"


def _exp(dataset, tmp_path, provider: ProviderSpec, **kw) -> Experiment:
    return Experiment(
        dataset=dataset, providers=(provider,), workers=1, output=tmp_path / "r", name="http", **kw
    )


def test_retries_count_http_retries_not_windows(dataset, tmp_path, monkeypatch):
    """jfk (11 s) in 4 s windows is 4 requests; one 503 makes 5 attempts and 1 retry, not 4."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_server(_heard, api_key=KEY) as server:
        server.inject(openai_fault(503))
        exp = _exp(dataset, tmp_path, _openai(server), chunking=("4s/1s",), merge=("timestamp",))
        rows = run_experiment(exp, progress=False, cache_root=tmp_path / "c").rows
    m = sum((r.measurement.attempts for r in rows), 0), sum(r.measurement.retries for r in rows)
    assert m == (len(server.requests), 1)


def _openai(server, **options) -> ProviderSpec:
    opts = {"base_url": server.url + "/v1", "min_wait_s": 0.0, "max_wait_s": 0.0, **options}
    return ProviderSpec("openai", tuple(sorted(opts.items())))


def test_a_run_over_http_retries_records_and_keeps_the_key_out(
    dataset, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    cache = tmp_path / "cache"
    with openai_server(_heard, api_key=KEY) as server, caplog.at_level(logging.DEBUG):
        server.inject(openai_fault(503, message=f"upstream said {KEY}"))
        exp = _exp(dataset, tmp_path, _openai(server, price_per_minute=0.006))
        result = run_experiment(exp, progress=False, cache_root=cache)
        rows = {r.identity.sample_id: r for r in result.rows}
        assert [r.status for r in result.rows] == ["ok", "ok"]
        assert rows["goforward"].counts["words"].errors == 0
        assert sorted(r.measurement.attempts for r in result.rows) == [1, 2]  # one 503, retried
        assert sorted(r.measurement.retries for r in result.rows) == [0, 1]
        assert all(r.measurement.latency_s > 0 and r.measurement.rtfx > 0 for r in result.rows)
        # list price of what was sent: $0.006 per minute of each file
        assert rows["jfk"].measurement.cost_usd == pytest.approx(0.006 * 11.0 / 60, rel=1e-3)
        sent = len(server.requests)
        again = run_experiment(exp, progress=False, cache_root=cache, fresh=True)
        assert len(server.requests) == sent  # nothing paid for twice
        assert all(r.measurement.cached for r in again.rows)
        cost = {r.identity.sample_id: r.measurement.cost_usd for r in result.rows}
        assert {
            r.identity.sample_id: r.measurement.cost_usd for r in again.rows
        } == cost  # as measured then
    write_summary(again)
    report(again.run_dir)
    for path in [*(tmp_path / "r").rglob("*"), *cache.rglob("*")]:
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in caplog.text


def test_nothing_is_sent_over_budget_or_without_a_key(dataset, tmp_path, monkeypatch):
    with openai_server(_heard, api_key=KEY) as server:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        exp = _exp(dataset, tmp_path, _openai(server, price_per_minute=1.0), budget_usd=0.05)
        with pytest.raises(OverBudget, match=r"over the budget of \$0.05"):
            run_experiment(exp, progress=False)
        monkeypatch.delenv("OPENAI_API_KEY")
        monkeypatch.chdir(tmp_path)
        with pytest.raises(AuthError, match="OPENAI_API_KEY"):
            run_experiment(_exp(dataset, tmp_path, _openai(server)), progress=False)
        assert server.requests == []


def test_a_file_over_the_duration_cap_is_a_failure_row_and_not_sent(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_server(_heard, api_key=KEY) as server:
        exp = _exp(dataset, tmp_path, _openai(server), max_duration_s=5.0)
        rows = {r.identity.sample_id: r for r in run_experiment(exp, progress=False).rows}
        assert rows["jfk"].status == "failed" and "over the 5 s per-file cap" in rows["jfk"].error
        assert rows["goforward"].status == "ok" and len(server.requests) == 1


def test_permanent_errors_are_failure_rows_sent_once(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_server(_heard, api_key=KEY) as server:
        server.inject(openai_fault(400, message="bad audio"))
        rows = run_experiment(_exp(dataset, tmp_path, _openai(server)), progress=False).rows
        failed = [r for r in rows if r.status == "failed"]
        assert len(failed) == 1 and "HTTP 400: bad audio" in failed[0].error
        assert (
            failed[0].hypothesis == "" and failed[0].columns()["ref_words"] == 0
        )  # not scored as deletions
        assert len(server.requests) == 2


def test_url_mode_only_when_nothing_alters_the_audio(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGRAM_API_KEY", KEY)
    with deepgram_server(_heard, api_key=KEY) as server:
        spec = ProviderSpec("deepgram", (("base_url", server.url),))
        conditions = ("clean", "noise(kind=white, snr_db=20)")
        exp = _exp(dataset, tmp_path, spec, conditions=conditions, ids=("goforward",))
        rows = {r.identity.condition: r for r in run_experiment(exp, progress=False).rows}
        bodies = sorted(r.headers.get("Content-Type", "") for r in server.requests)
    assert bodies == ["application/json", "audio/wav"]
    assert rows["clean"].warning is None
    assert "audio_url not used" in rows["noise(kind=white, snr_db=20)"].warning


@pytest.mark.slow
def test_http_run_gives_the_local_engines_counts(tmp_path, monkeypatch):
    """The OpenAI-compatible path backed by faster-whisper scores like the engine itself."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    manifest = SAMPLE / "manifest.jsonl"
    local = Experiment(
        dataset=manifest,
        providers=(ProviderSpec("faster-whisper"),),
        select={"quick": True},
        workers=1,
        output=tmp_path / "r",
        name="local",
    )
    with openai_server(faster_whisper_backend(), api_key=KEY) as server:
        remote = Experiment(
            dataset=manifest,
            providers=(_openai(server, model="whisper-1"),),
            select={"quick": True},
            workers=1,
            output=tmp_path / "r",
            name="http",
        )
        over_http = run_experiment(remote, progress=False).rows
    direct = run_experiment(local, progress=False).rows

    def counts(rows):
        return sorted(
            (
                r.identity.sample_id,
                r.columns()["hits"],
                r.columns()["subs"],
                r.columns()["dels"],
                r.columns()["ins"],
                r.columns()["ref_words"],
            )
            for r in rows
        )

    assert counts(over_http) == counts(direct) and len(direct) == 4


def test_provider_diarization_is_scored_against_the_reference_turns(tmp_path, monkeypatch):
    """diarizers = ["provider"]: the speakers a provider returns get DER, JER and cpWER."""
    monkeypatch.setenv("DEEPGRAM_API_KEY", KEY)
    for name in ("pyannote_sample.flac", "pyannote_sample.rttm", "pyannote_sample.stm"):
        folder = "audio" if name.endswith(".flac") else name.rsplit(".", 1)[1]
        shutil.copy(SAMPLE / folder / name, tmp_path / name)
    row = {
        "id": "pyannote_sample",
        "audio": "pyannote_sample.flac",
        "text": "hello there hi",
        "rttm": "pyannote_sample.rttm",
        "stm": "pyannote_sample.stm",
    }
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")

    def two_speakers(audio: bytes, request) -> Transcript:
        return Transcript(
            "hello there hi",
            (
                Word("hello", 0.5, 1.0, 0.9, "0"),
                Word("there", 1.0, 1.5, 0.9, "0"),
                Word("hi", 6.0, 6.5, 0.9, "1"),
            ),
        )

    with deepgram_server(two_speakers, api_key=KEY) as server:
        spec = ProviderSpec("deepgram", (("base_url", server.url), ("diarize", True)))
        exp = _exp(tmp_path / "m.jsonl", tmp_path, spec, diarizers=("provider",))
        (got,) = run_experiment(exp, progress=False).rows
    assert got.status == "ok" and got.identity.diarizer == "provider"
    # reference speech in the RTTM
    assert got.counts["der"].total_s == pytest.approx(16.34, abs=0.01)
    assert got.counts["jer"].speakers == 2 and got.counts["cpwer"] is not None


def test_manifest_problems_are_warned_once_before_the_run_not_per_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    rows = [{"id": "notext", "audio": "whisper_jfk.flac", "channel": "mic"}]
    for sid, name in (("jfk", "whisper_jfk.flac"), ("goforward", "pocketsphinx_goforward.flac")):
        shutil.copy(SAMPLE / "audio" / name, tmp_path / name)
        rows.append({"id": sid, "audio": name, "text": TEXT[sid], "channel": "mic"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    conditions = ("clean", "gain(db=-6)", "gain(db=-12)")  # 3 cells per sample
    with openai_server(_heard, api_key=KEY) as server:
        exp = _exp(tmp_path / "m.jsonl", tmp_path, _openai(server), conditions=conditions)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RowProblemWarning)
            with pytest.raises(RowProblemWarning, match="row 1 .*missing text.*3 cell"):
                run_experiment(exp, progress=False, cache_root=None)
        assert server.requests == []  # reported before anything was sent
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_experiment(exp, progress=False, cache_root=None)
    kinds = [w.category for w in caught]
    assert kinds.count(UnknownFieldWarning) == 1 and kinds.count(RowProblemWarning) == 1
    assert sum(r.identity.sample_id == "notext" and r.status == "failed" for r in result.rows) == 3
    assert sum(r.status == "ok" for r in result.rows) == 6


def test_an_experiment_reads_a_nemo_manifest_directly(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "goforward.flac")
    nemo = {"audio_filepath": "goforward.flac", "duration": 2.0, "text": TEXT["goforward"]}
    (tmp_path / "train_manifest.json").write_text(json.dumps(nemo) + "\n")
    with openai_server(_heard, api_key=KEY) as server:
        provider = {"name": "openai", "base_url": server.url + "/v1", "min_wait_s": 0.0}
        exp = experiment_from_dict(
            {
                "dataset": {"format": "nemo", "path": "train_manifest.json"},
                "providers": [provider],
                "workers": 1,
                "output": "r",
            },
            tmp_path,
        )
        (row,) = run_experiment(exp, progress=False, cache_root=None).rows
    assert exp.dataset_format == "nemo" and exp.dataset == tmp_path / "train_manifest.json"
    assert (
        row.identity.sample_id,
        row.status,
        row.columns()["ref_words"],
        row.columns()["hits"],
    ) == ("goforward", "ok", 4, 4)
    with pytest.raises(ExperimentError, match="exactly 'format' and 'path'"):
        experiment_from_dict({"dataset": {"format": "nemo"}, "providers": ["openai"]}, tmp_path)
    with pytest.raises(ExperimentError, match="unknown dataset format 'nemmo'; choose from"):
        experiment_from_dict(
            {"dataset": {"format": "nemmo", "path": "train_manifest.json"}}, tmp_path
        )
