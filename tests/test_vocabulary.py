"""Custom vocabulary: each provider sends the phrases in its documented field (the loopback
servers read the request), the axis is read from an experiment, and providers without a field
refuse the phrases instead of ignoring them."""

from __future__ import annotations

import numpy as np
import pytest

from stt_eval.audio.load import AudioClip
from stt_eval.cache.store import cache_key
from stt_eval.experiment import ExperimentError, experiment_from_dict
from stt_eval.providers.assemblyai import AssemblyAI
from stt_eval.providers.deepgram import Deepgram
from stt_eval.providers.errors import InputRejected
from stt_eval.providers.openai import OpenAICompatible
from stt_eval.providers.pocketsphinx import PocketSphinx
from stt_eval.providers.pulse import Pulse
from stt_eval.providers.vocabulary import phrases, read_phrases
from stt_eval.run.grid import plan_cells
from stt_eval.testing.assemblyai import assemblyai_server
from stt_eval.testing.deepgram import deepgram_server
from stt_eval.testing.openai import form_fields, openai_server
from stt_eval.testing.pulse import pulse_server
from stt_eval.types import Transcript, Word

KEY = "vocab-test-key-1234"
CLIP = AudioClip(np.linspace(-0.1, 0.1, 8000, dtype=np.float32), 16000)
HEARD = Transcript("Diane in New Jersey", words=(Word("Diane", 0.1, 0.4, 0.9),), language="en")
TERMS = ("Diane", "New Jersey")
FAST = {"min_wait_s": 0, "max_wait_s": 0}


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    for name in ("DEEPGRAM_API_KEY", "ASSEMBLYAI_API_KEY", "OPENAI_API_KEY", "SMALLEST_API_KEY"):
        monkeypatch.setenv(name, KEY)


def heard(wav, request):
    return HEARD


@pytest.mark.parametrize(
    ("model", "field", "absent"),
    [("nova-3", "keyterm", "keywords"), ("nova-2", "keywords", "keyterm")],
)
def test_deepgram_sends_keyterm_to_nova3_and_keywords_to_older_models(model, field, absent):
    with deepgram_server(heard, api_key=KEY) as server:
        provider = Deepgram(base_url=server.url, model=model, **FAST)
        provider.transcribe(CLIP, {"language": "en", "vocabulary": TERMS})
        provider.transcribe(CLIP, {"language": "en"})
    with_terms, without = server.requests
    assert with_terms.query[field] == ["Diane", "New Jersey"]  # one repeated parameter a phrase
    assert absent not in with_terms.query
    assert field not in without.query


def test_assemblyai_sends_keyterms_prompt_in_the_job():
    with assemblyai_server(heard, api_key=KEY) as server:
        provider = AssemblyAI(base_url=server.url, poll_interval_s=0.0, **FAST)
        provider.transcribe(CLIP, {"vocabulary": TERMS})
    create = next(r for r in server.requests if r.path == "/v2/transcript")
    assert create.json()["keyterms_prompt"] == ["Diane", "New Jersey"]
    assert "word_boost" not in create.json()


def test_openai_sends_the_phrases_as_its_prompt_and_gpt_transcribe_as_keywords():
    with openai_server(heard, api_key=KEY) as server:
        OpenAICompatible(base_url=server.url + "/v1", **FAST).transcribe(
            CLIP, {"vocabulary": TERMS}
        )
        OpenAICompatible(base_url=server.url + "/v1", prompt="A call.", **FAST).transcribe(
            CLIP, {"vocabulary": TERMS}
        )
        OpenAICompatible(base_url=server.url + "/v1", model="gpt-transcribe", **FAST).transcribe(
            CLIP, {"vocabulary": TERMS}
        )
        with pytest.raises(InputRejected, match="takes no prompt"):
            OpenAICompatible(
                base_url=server.url + "/v1", model="gpt-4o-transcribe-diarize", **FAST
            ).transcribe(CLIP, {"vocabulary": TERMS})
    plain, own, keywords = (form_fields(r) for r in server.requests)
    assert plain["prompt"] == ["Diane, New Jersey"]
    assert own["prompt"] == ["A call. Diane, New Jersey"]
    assert keywords["keywords[]"] == ["Diane", "New Jersey"] and "prompt" not in keywords


def test_pulse_over_http_and_pocketsphinx_refuse_vocabulary_and_send_nothing():
    with pulse_server(heard, api_key=KEY) as server:
        with pytest.raises(InputRejected, match="pulse: custom vocabulary is not supported"):
            Pulse(base_url=server.url, **FAST).transcribe(CLIP, {"vocabulary": TERMS})
        assert server.requests == []
        Pulse(base_url=server.url, **FAST).transcribe(CLIP, {"language": "en"})  # off: fine
    with pytest.raises(InputRejected, match=r"pocketsphinx.*vocabulary = \[\"off\"\]"):
        PocketSphinx().transcribe(CLIP, {"vocabulary": TERMS})


def test_the_cache_key_holds_the_phrases():
    identity = {"engine": "x"}
    wav = CLIP.to_wav_bytes()
    off = cache_key(wav, identity, {"language": "en"})
    on = cache_key(wav, identity, {"language": "en", "vocabulary": TERMS})
    other = cache_key(wav, identity, {"language": "en", "vocabulary": ("Sheila",)})
    assert len({off, on, other}) == 3


def test_the_axis_expands_providers_with_labelled_cells(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("")
    (tmp_path / "words.txt").write_text("# names\nDiane\n\nSheila\nDiane\n")
    exp = experiment_from_dict(
        {
            "dataset": "m.jsonl",
            "providers": ["pocketsphinx"],
            "vocabulary": ["off", "terms", "words.txt"],
        },
        tmp_path,
    )
    assert exp.vocabulary == ("off", "terms", str((tmp_path / "words.txt").resolve()))
    cells = plan_cells(exp)
    assert [(c.provider.label, c.vocabulary) for c in cells] == [
        ("pocketsphinx", "off"),
        ("pocketsphinx+terms", "terms"),
        ("pocketsphinx+words", exp.vocabulary[2]),
    ]
    assert cells[1].identity("r", "s", "whisper").vocabulary == "terms"
    assert read_phrases(tmp_path / "words.txt") == ("Diane", "Sheila")
    assert phrases("terms", ["Texas", " ", "Texas"]) == ("Texas",)
    assert phrases("off", ["Texas"]) == ()
    default = experiment_from_dict({"dataset": "m.jsonl"}, tmp_path)
    assert exp.run_id != default.run_id and default.vocabulary == ("off",)
    with pytest.raises(ExperimentError, match=r"vocabulary\[0\].*'off', 'terms' or a file"):
        experiment_from_dict({"dataset": "m.jsonl", "vocabulary": "missing.txt"}, tmp_path)


@pytest.mark.slow
def test_faster_whisper_takes_the_phrases_as_hotwords_or_initial_prompt():
    from stt_eval.audio.load import load_audio
    from stt_eval.providers.faster_whisper import FasterWhisper

    from .conftest import SAMPLE

    clip = load_audio(SAMPLE / "audio" / "whisper_jfk.flac")
    with pytest.raises(ValueError, match="vocabulary_as='prompt'"):
        FasterWhisper(vocabulary_as="prompt")
    assert FasterWhisper().cache_identity() == {
        k: v for k, v in FasterWhisper().cache_identity().items() if k != "vocabulary_as"
    }
    assert FasterWhisper(vocabulary_as="initial_prompt").cache_identity() != (
        FasterWhisper().cache_identity()
    )
    for field in ("hotwords", "initial_prompt"):
        t = FasterWhisper(vocabulary_as=field).transcribe(
            clip, {"language": "en", "vocabulary": ("Americans",)}
        )
        assert "americans" in t.text.lower()
