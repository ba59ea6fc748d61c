"""The OpenAI-compatible provider against the loopback server (PROVIDER_CONTRACTS §2): the
documented multipart request, the documented and the deviant answers parsed by hand-written
expectations, every fault, and the whole HTTP path with the real faster-whisper engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests

from stt_eval.audio.load import AudioClip, load_audio
from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    PermanentProviderError,
    TransientProviderError,
)
from stt_eval.providers.faster_whisper import FasterWhisper
from stt_eval.providers.openai import OpenAICompatible
from stt_eval.providers.registry import UnknownProvider, get_provider
from stt_eval.testing.openai import (
    faster_whisper_backend,
    openai_fault,
    openai_server,
    parse_multipart,
)
from stt_eval.testing.server import Fault
from stt_eval.types import SpeakerTurn, Transcript, Word

from .conftest import SAMPLE

KEY = "sk-test-SECRET-key-0042"
CLIP = AudioClip(np.zeros(8000, dtype=np.float32), 16000)  # 0.5 s of silence

# PROVIDER_CONTRACTS §2.7 (whisper-1, verbose_json, word + segment granularities)
SPEC_EXAMPLE = {
    "task": "transcribe",
    "language": "english",
    "duration": 8.470000267028809,
    "text": "The beach was a popular spot on a hot summer day. People were swimming in the ocean, "
    "building sandcastles, and playing beach volleyball.",
    "words": [
        {"word": "The", "start": 0.0, "end": 0.23999999463558197},
        {"word": "volleyball", "start": 7.400000095367432, "end": 7.900000095367432},
    ],
    "segments": [
        {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": 3.319999933242798,
            "text": " The beach was a popular spot on a hot summer day.",
            "tokens": [
                50364,
                440,
                7534,
                390,
                257,
                3743,
                4008,
                322,
                257,
                2368,
                4266,
                786,
                13,
                50530,
            ],
            "temperature": 0.0,
            "avg_logprob": -0.2860786020755768,
            "compression_ratio": 1.2363636493682861,
            "no_speech_prob": 0.00985979475080967,
        }
    ],
    "usage": {"type": "duration", "seconds": 9},
}

HEARD = Transcript(
    "Hello there. Bye.",
    words=(Word("Hello", 0.1, 0.4, 0.9), Word("there.", 0.4, 0.8, 0.8), Word("Bye.", 1.0, 1.3)),
    language="en",
)


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


@pytest.fixture
def server(key):
    with openai_server(lambda wav, request: HEARD, api_key=KEY) as s:
        yield s


def make(server, **kw) -> OpenAICompatible:
    kw = {"min_wait_s": 0, "max_wait_s": 0, **kw}
    return OpenAICompatible(base_url=server.url + "/v1", **kw)


def sent_form(request) -> dict[str, list]:
    parts = parse_multipart(request.body, request.headers["Content-Type"])
    form: dict[str, list] = {}
    for p in parts:
        form.setdefault(p.name, []).append(p if p.filename else p.data.decode())
    return form


# --------------------------------------------------------------------------- happy paths


def test_spec_example_response_parses_to_hand_written_transcript(server):
    server.inject(Fault(status=200, body=SPEC_EXAMPLE))
    t = make(server).transcribe(CLIP, {"language": "en"})
    assert t == Transcript(
        SPEC_EXAMPLE["text"],
        words=(
            Word("The", 0.0, 0.23999999463558197),
            Word("volleyball", 7.400000095367432, 7.900000095367432),
        ),
        language="en",  # "english" in the response
    )


def test_request_is_the_documented_multipart_form(server):
    t = make(server).transcribe(CLIP, {"language": "en-US"})
    (sent,) = server.requests
    assert sent.path == "/v1/audio/transcriptions"
    form = sent_form(sent)
    (upload,) = form.pop("file")
    assert (upload.filename, upload.content_type) == ("audio.wav", "audio/wav")
    assert upload.data == CLIP.to_wav_bytes()
    assert form == {
        "model": ["whisper-1"],
        "response_format": ["verbose_json"],
        "timestamp_granularities[]": ["word", "segment"],
        "language": ["en"],
    }
    assert t == Transcript(
        "Hello there. Bye.",
        words=(Word("Hello", 0.1, 0.4), Word("there.", 0.4, 0.8), Word("Bye.", 1.0, 1.3)),
        language="en",
    )
    assert [s["text"] for s in t.raw["segments"]] == [" Hello there.", " Bye."]


def test_prompt_temperature_and_language_option_are_sent(server):
    make(server, prompt="Acme, Pulse", temperature=0.2, language="de").transcribe(CLIP, {})
    form = sent_form(server.requests[0])
    assert (form["prompt"], form["temperature"], form["language"]) == (
        ["Acme, Pulse"],
        ["0.2"],
        ["de"],
    )


def test_gpt4o_models_ask_for_json_and_get_text_only(server):
    t = make(server, model="gpt-4o-transcribe").transcribe(CLIP, {"language": "en"})
    form = sent_form(server.requests[0])
    assert form["response_format"] == ["json"] and "timestamp_granularities[]" not in form
    assert (t.text, t.words) == ("Hello there. Bye.", ())


def test_missing_words_are_spread_over_segment_times(server):
    # a server that ignored timestamp_granularities[]=word: segments only, nulls, no language
    body = {
        "text": None,
        "language": None,
        "duration": None,
        "words": None,
        "segments": [
            {"id": 0, "start": 1.0, "end": 2.0, "text": " ab cdef"},
            {"id": 1, "start": 2.5, "end": 2.9, "text": " g"},
        ],
    }
    server.inject(Fault(status=200, body=body))
    t = make(server).transcribe(CLIP, {"language": "fr"})
    assert t == Transcript(
        "ab cdef g",
        words=(Word("ab", 1.0, 1 + 2 / 6), Word("cdef", 1 + 2 / 6, 2.0), Word("g", 2.5, 2.9)),
        language="fr",
    )


def test_words_nested_in_segments_are_used(server):
    body = {
        "text": "Hi you",
        "segments": [
            {
                "start": 0.0,
                "end": 1.0,
                "text": " Hi you",
                "words": [
                    {"word": " Hi", "start": 0.1, "end": 0.3},
                    {"word": " you", "start": 0.4, "end": 0.9},
                ],
            }
        ],
    }
    server.inject(Fault(status=200, body=body))
    assert make(server).transcribe(CLIP).words == (Word("Hi", 0.1, 0.3), Word("you", 0.4, 0.9))


def test_no_words_and_no_segments_gives_text_without_words(server):
    server.inject(Fault(status=200, body={"text": " Hi.", "x_groq": {"id": "req_1"}}))
    assert make(server).transcribe(CLIP) == Transcript("Hi.")


def test_plain_text_body_when_response_format_was_ignored(server):
    server.inject(Fault(status=200, body=b"Hello there.\n"))
    assert make(server).transcribe(CLIP, {"language": "en"}) == Transcript(
        "Hello there.", language="en"
    )


def test_text_response_format(server):
    t = make(server, response_format="text").transcribe(CLIP, {"language": "en"})
    assert t.text == "Hello there. Bye." and sent_form(server.requests[0])["response_format"] == [
        "text"
    ]


def test_text_format_silence_is_an_empty_transcript_but_json_format_empty_body_is_retried(server):
    server.inject(Fault(status=200, body=b"\n"))
    assert make(server, response_format="text").transcribe(CLIP) == Transcript("")
    server.inject(Fault(status=200, body=b""))
    assert make(server).transcribe(CLIP).text == HEARD.text
    assert len(server.requests) == 3


def test_word_probability_of_faster_whisper_servers_is_kept(server):
    body = {"text": "Hi", "words": [{"word": " Hi", "start": 0.0, "end": 0.5, "probability": 0.7}]}
    server.inject(Fault(status=200, body=body))
    assert make(server).transcribe(CLIP).words == (Word("Hi", 0.0, 0.5, 0.7),)


def test_diarize_model_segments_become_turns(key):
    heard = Transcript(
        "a b", words=(Word("a", 0.0, 1.0, speaker="x"), Word("b", 1.0, 2.0, None, "y"))
    )
    with openai_server(lambda wav, request: heard, api_key=KEY) as server:
        t = make(server, model="gpt-4o-transcribe-diarize").transcribe(CLIP, {"language": "en"})
    assert t.turns == (SpeakerTurn("A", 0.0, 1.0), SpeakerTurn("B", 1.0, 2.0))
    assert t.words == (Word("a", 0.0, 1.0, None, "A"), Word("b", 1.0, 2.0, None, "B"))


# --------------------------------------------------------------------------- faults


def test_documented_400_is_rejected_input_sent_once(server):
    server.inject(openai_fault(400, message="Invalid file format. Supported formats: ['wav']"))
    with pytest.raises(InputRejected, match="Invalid file format") as err:
        make(server).transcribe(CLIP)
    assert err.value.status == 400 and len(server.requests) == 1


def test_413_is_rejected_input_sent_once(server):
    server.inject(openai_fault(413))
    with pytest.raises(InputRejected, match="size limit"):
        make(server).transcribe(CLIP)
    assert len(server.requests) == 1


def test_broken_json_every_time_gives_up_as_transient(server):
    server.inject(*[Fault(truncate=True)] * 2)
    with pytest.raises(TransientProviderError, match="not valid JSON"):
        make(server, max_attempts=2).transcribe(CLIP)


def test_a_200_with_an_error_and_no_text_is_an_error(server):
    server.inject(Fault(status=200, body={"error": {"message": "model overloaded"}}))
    with pytest.raises(PermanentProviderError, match="model overloaded"):
        make(server).transcribe(CLIP)


# --------------------------------------------------------------------------- keys, Groq, limits


def test_missing_key_names_the_variable_and_sends_nothing(monkeypatch, tmp_path, server):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AuthError, match="OPENAI_API_KEY"):
        make(server).transcribe(CLIP)
    assert server.requests == []


def test_groq_key_variable(monkeypatch, tmp_path, key):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY")
    with openai_server(lambda wav, request: HEARD, api_key="gsk-groq") as server:
        groq = make(server, key_variable="GROQ_API_KEY", model="whisper-large-v3")
        with pytest.raises(AuthError, match="GROQ_API_KEY"):
            groq.load()
        monkeypatch.setenv("GROQ_API_KEY", "gsk-wrong")
        with pytest.raises(AuthError, match="check GROQ_API_KEY"):
            groq.transcribe(CLIP)
        monkeypatch.setenv("GROQ_API_KEY", "gsk-groq")
        assert groq.transcribe(CLIP).text == HEARD.text
    assert "key_variable" not in groq.cache_identity()


def test_key_never_appears_in_an_error_message(server):
    server.inject(openai_fault(400, message=f"Incorrect API key provided: {KEY}"))
    with pytest.raises(InputRejected) as err:
        make(server).transcribe(CLIP)
    assert KEY not in str(err.value) and KEY not in (err.value.provider_message or "")


def test_over_the_size_limit_is_refused_before_sending(server, monkeypatch):
    monkeypatch.setattr(OpenAICompatible, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(InputRejected, match="over the provider's"):
        make(server).transcribe(CLIP)
    assert server.requests == []


def test_unknown_and_invalid_options_are_clear_errors(server):
    with pytest.raises(TypeError, match="beam_size"):
        OpenAICompatible(beam_size=3)
    with pytest.raises(UnknownProvider, match=r"valid options: .*key_variable"):
        get_provider("openai", beam_size=3)
    with pytest.raises(ValueError, match="response_format"):
        OpenAICompatible(response_format="srt")
    with pytest.raises(ValueError, match="temperature"):
        OpenAICompatible(temperature=1.5)
    with pytest.raises(ValueError, match="environment variable") as err:
        OpenAICompatible(key_variable="sk-pasted-a-key")
    assert "sk-pasted" not in str(err.value)
    with pytest.raises(InputRejected, match="ISO 639-1"):
        make(server).transcribe(CLIP, {"language": "klingon"})
    assert server.requests == []


def test_cache_identity(key):
    base = OpenAICompatible().cache_identity()
    assert base["response_format"] == "verbose_json" and base["model"] == "whisper-1"
    assert OpenAICompatible(response_format="verbose_json").cache_identity() == base
    assert OpenAICompatible(prompt="x").cache_identity() != base
    assert KEY not in json.dumps(base)


# --------------------------------------------------------------------------- the server itself


def test_server_rejects_what_the_schema_rejects(server):
    auth = {"Authorization": f"Bearer {KEY}"}
    url = f"{server.url}/v1/audio/transcriptions"
    wav = ("a.wav", CLIP.to_wav_bytes(), "audio/wav")
    cases = [
        ({"model": "whisper-1", "beam": "5"}, "beam"),
        ({"model": "whisper-1", "timestamp_granularities[]": "word"}, "timestamp_granularities[]"),
        ({"model": "gpt-4o-transcribe", "response_format": "verbose_json"}, "response_format"),
        ({"response_format": "json"}, "model"),
    ]
    for data, param in cases:
        r = requests.post(url, data=data, files={"file": wav}, headers=auth)
        assert r.status_code == 400
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
        assert r.json()["error"]["param"] == param
    r = requests.post(
        url, data={"model": "whisper-1"}, files={"file": ("a.xyz", b"x")}, headers=auth
    )
    assert r.status_code == 400 and "Invalid file format" in r.json()["error"]["message"]
    assert requests.post(url, data={"model": "whisper-1"}).status_code == 401


# --------------------------------------------------------------------------- a real engine


@pytest.mark.slow
def test_real_faster_whisper_behind_the_http_path_matches_the_local_engine(key):
    clip = load_audio(SAMPLE / "audio" / "whisper_jfk.flac")
    direct = FasterWhisper().transcribe(clip, {"language": "en"})
    with openai_server(faster_whisper_backend(), api_key=KEY) as server:
        via_http = make(server).transcribe(clip, {"language": "en"})
    assert via_http.text == direct.text
    assert [(w.text, w.start, w.end) for w in via_http.words] == [
        (w.text, w.start, w.end) for w in direct.words
    ]
    assert via_http.language == "en"
