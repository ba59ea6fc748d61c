"""One path per recording: a run, `transcribe --condition` and `conditions preview` hear the same
audio; failures become rows; bugs are logged with their traceback."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import dataclass

import pytest

from stt_eval.api import preview_condition, transcribe_file
from stt_eval.audio.load import AudioClip
from stt_eval.cache.store import TranscriptCache, cache_key
from stt_eval.conditions.spec import canonical_condition
from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.pipeline.cell import Cell
from stt_eval.pipeline.failures import describe_error
from stt_eval.pipeline.prepare import babble_talkers, condition_seed
from stt_eval.pipeline.recording import RecordingJob, run_recording
from stt_eval.pipeline.score import Scoring, score_transcript, scored_row
from stt_eval.providers import registry
from stt_eval.providers.pocketsphinx import PocketSphinx
from stt_eval.run.grid import run_experiment
from stt_eval.types import Sample, Transcript

from .conftest import SAMPLE

CONDITION = "noise(snr_db=10, kind=babble)"  # not the canonical spelling on purpose


@pytest.fixture
def dataset(tmp_path):
    rows = []
    for sid, name, text in (
        ("jfk", "whisper_jfk.flac", "and so my fellow americans"),
        ("goforward", "pocketsphinx_goforward.flac", "go forward ten meters"),
        ("cold", "mfa_cold_corpus.flac", "cold"),
    ):
        shutil.copy(SAMPLE / "audio" / name, tmp_path / name)
        rows.append({"id": sid, "audio": name, "text": text})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path / "m.jsonl"


def test_condition_seeds_follow_the_canonical_chain():
    a, b = canonical_condition(CONDITION), canonical_condition("noise(kind=babble,snr_db=10.0)")
    assert a == b == "noise(kind=babble, snr_db=10)"
    assert condition_seed(7, "jfk", a) == condition_seed(7, "jfk", b)
    assert condition_seed(7, "jfk", a) != condition_seed(7, "cold", a)
    assert condition_seed(7, "jfk", a, 0) != condition_seed(7, "jfk", a, 1)


def test_babble_talkers_are_the_first_others_of_the_dataset():
    paths = ["a.wav", "b.wav", "a.wav", "c.wav", "d.wav", "e.wav"]
    assert babble_talkers("b.wav", paths) == ("a.wav", "c.wav", "d.wav")


@pytest.mark.slow
def test_preview_transcribe_and_a_run_hear_bit_identical_audio(dataset, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    exp = Experiment(
        dataset=dataset,
        providers=(ProviderSpec("pocketsphinx"),),
        conditions=(CONDITION,),
        seed=7,
        workers=1,
        output=tmp_path / "results",
        name="p",
        ids=("jfk",),
    )
    (row,) = run_experiment(exp, progress=False, cache_root=cache).rows
    assert row.status == "ok" and abs(row.measurement.snr_db - 10) < 0.5

    wav = tmp_path / "preview.wav"
    heard = preview_condition("jfk", CONDITION, wav, seed=7, dataset=dataset)
    assert wav.read_bytes() == heard.clip.to_wav_bytes()
    key = cache_key(wav.read_bytes(), PocketSphinx().cache_identity(), {"language": "en"})
    assert TranscriptCache(cache).get(key) is not None  # the run sent exactly these bytes

    monkeypatch.setenv("STT_EVAL_CACHE", str(cache))
    audio = dataset.parent / "whisper_jfk.flac"  # by path this time, not by id
    again = transcribe_file(audio, "pocketsphinx", condition=CONDITION, seed=7, dataset=dataset)
    assert again.cached and again.transcript.text == row.hypothesis
    assert again.snr_db == pytest.approx(row.measurement.snr_db)

    other = preview_condition("jfk", CONDITION, tmp_path / "other.wav", seed=8, dataset=dataset)
    assert other.clip.to_wav_bytes() != heard.clip.to_wav_bytes()


def test_babble_without_a_dataset_says_how_to_get_one(tmp_path):
    with pytest.raises(ValueError, match="--dataset"):
        preview_condition(SAMPLE / "audio" / "whisper_jfk.flac", CONDITION, tmp_path / "x.wav")


@dataclass(frozen=True)
class _Broken:
    """A provider with a bug in it: the pipeline must turn it into a failure row and a log line."""

    name: str = "broken"

    def cache_identity(self):
        return {"engine": "broken"}

    def load(self) -> None:
        pass

    def transcribe(self, audio: AudioClip, options=None) -> Transcript:
        return Transcript(str(1 / 0))


def _job(sample: Sample, *providers: str) -> RecordingJob:
    cells = tuple(Cell(ProviderSpec(p), "clean", "none", "none", "none") for p in providers)
    return RecordingJob("r", sample, "clean", cells, Scoring())


def test_a_bug_is_a_failure_row_with_its_traceback_in_the_log(monkeypatch, caplog):
    real = registry.provider_class
    monkeypatch.setattr(registry, "provider_class", lambda n: _Broken if n == "broken" else real(n))
    sample = Sample("jfk", SAMPLE / "audio" / "whisper_jfk.flac", "and so my fellow americans")
    with caplog.at_level(logging.ERROR, logger="stt_eval"):
        (row,) = run_recording(_job(sample, "broken"))
    assert row.status == "failed" and "internal error" in row.error
    assert "ZeroDivisionError" in row.error
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def test_bad_audio_fails_every_cell_with_the_file_and_no_traceback(tmp_path, caplog):
    (tmp_path / "x.wav").write_text("not audio\n" * 20)
    with caplog.at_level(logging.ERROR, logger="stt_eval"):
        rows = run_recording(
            _job(Sample("x", tmp_path / "x.wav", "words"), "pocketsphinx", "faster-whisper")
        )
    assert [r.status for r in rows] == ["failed", "failed"]
    assert all("x.wav" in r.error and "internal error" not in r.error for r in rows)
    assert not caplog.records


def test_describe_error_keeps_our_messages_and_flags_the_rest():
    from stt_eval.audio.load import AudioError

    assert (
        describe_error(AudioError("a.wav", "empty", "re-export it"))
        == "a.wav: empty — re-export it"
    )
    assert describe_error(FileNotFoundError("gone")) == "gone"
    assert describe_error(KeyError("k")).startswith("internal error in stt-eval: KeyError")


def test_a_merge_fallback_reaches_the_row_as_a_warning():
    sample = Sample("s", SAMPLE / "audio" / "whisper_jfk.flac", "hello there")
    merged = Transcript("hello there", raw={"merge_fallback": "concat: chunks [1] have no words"})
    base = _job(sample, "pocketsphinx").base_row(_job(sample, "pocketsphinx").cells[0])
    row = scored_row(base, score_transcript(sample, merged, (5.0,), Scoring()))
    assert row.columns()["ref_words"] == 2 and row.columns()["hits"] == 2
    assert row.warning == "merge fell back to concat: chunks [1] have no words"


def test_a_slice_of_a_recording_is_all_that_is_heard(tmp_path):
    """Kaldi segments, STM and NeMo offsets make samples that are spans of a longer file."""
    from stt_eval.pipeline.prepare import Recording, prepare

    path = SAMPLE / "audio" / "whisper_jfk.flac"  # 11.0 s
    part = Sample("u1", path, "ask not", meta={"offset_s": 2.5, "duration_s": 3.0})
    audio = prepare(Recording.of(part), "clean", 0)
    whole = prepare(Recording.of(Sample("w", path, "x")), "clean", 0)
    assert audio.duration_s == 3.0
    assert audio.clip.samples.tobytes() == whole.clip.slice(2.5, 5.5).samples.tobytes()
    late = Sample("u2", path, "x", meta={"offset_s": 10.0, "duration_s": 3.0})
    (row,) = run_recording(_job(late, "pocketsphinx"))
    assert row.status == "failed" and "ends after the recording (11.00 s)" in row.error


@dataclass(frozen=True)
class _SlowToLoad:
    """A provider whose model takes 0.2 s to load, once."""

    name: str = "slow-to-load"
    loaded: list = dataclasses.field(default_factory=list, compare=False)

    def cache_identity(self):
        return {"engine": "slow-to-load"}

    def load(self) -> None:
        if not self.loaded:
            time.sleep(0.2)
            self.loaded.append(True)

    def transcribe(self, audio: AudioClip, options=None) -> Transcript:
        return Transcript("and so my fellow americans")


def test_model_load_time_is_measured_for_the_job_not_cached(monkeypatch):
    engine = _SlowToLoad()
    real = registry.provider_class
    monkeypatch.setattr(
        registry, "provider_class", lambda n: (lambda **kw: engine) if n == "slow" else real(n)
    )
    sample = Sample("jfk", SAMPLE / "audio" / "whisper_jfk.flac", "and so my fellow americans")
    (first,) = run_recording(_job(sample, "slow"))
    (second,) = run_recording(_job(sample, "slow"))  # loaded already: nothing to wait for
    assert first.status == "ok" and 0.2 <= first.measurement.load_s < 1.0
    assert second.measurement.load_s < 0.05


def test_transcribe_and_preview_hear_only_a_sample_slice(tmp_path):
    shutil.copy(SAMPLE / "audio" / "whisper_jfk.flac", tmp_path / "jfk.flac")
    row = {
        "id": "part",
        "audio": "jfk.flac",
        "text": "ask not",
        "meta": {"offset_s": 4.0, "duration_s": 7.0},
    }
    (tmp_path / "m.jsonl").write_text(json.dumps(row) + "\n")
    heard = preview_condition("part", "clean", tmp_path / "p.wav", dataset=tmp_path / "m.jsonl")
    assert heard.clip.duration_s == 7.0
