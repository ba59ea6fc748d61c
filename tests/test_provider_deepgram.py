"""Deepgram provider against loopback servers that follow the documented contract.

Expected transcripts are written by hand from PROVIDER_CONTRACTS §3.7 (the documented example)
and from the fixed backend transcript below, never produced by the code under test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests

from stt_eval.audio.load import AudioClip
from stt_eval.providers.deepgram import Deepgram
from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    PermanentProviderError,
)
from stt_eval.testing.deepgram import deepgram_error, deepgram_server
from stt_eval.testing.server import Fault, LoopbackServer, Reply
from stt_eval.types import SpeakerTurn, Transcript, Word

KEY = "dg-test-key-7f3a9c"
CLIP = AudioClip(np.linspace(-0.1, 0.1, 8000, dtype=np.float32), 16000)  # 0.5 s

# PROVIDER_CONTRACTS §3.7, verbatim.
EXAMPLE = {
    "metadata": {
        "transaction_key": "deprecated",
        "request_id": "5d2a1c3e-8f1b-4b8e-9b7a-2f0e6d8c9a11",
        "sha256": "154e291ecfa8be6ab8343560bcc109008fa7853eb5372533e8efdefc9b504c33",
        "created": "2026-07-01T12:00:00.000Z",
        "duration": 25.933313,
        "channels": 1,
        "models": ["2187e11a-3532-4498-b076-81fa530bdd49"],
        "model_info": {
            "2187e11a-3532-4498-b076-81fa530bdd49": {
                "name": "general-nova-3",
                "version": "2025-04-17.21547",
                "arch": "nova-3",
            }
        },
    },
    "results": {
        "channels": [
            {
                "alternatives": [
                    {
                        "transcript": "Yeah. As much as it's worth celebrating...",
                        "confidence": 0.99902344,
                        "words": [
                            {
                                "word": "yeah",
                                "start": 0.08,
                                "end": 0.32,
                                "confidence": 0.9975586,
                                "speaker": 0,
                                "speaker_confidence": 0.87,
                                "punctuated_word": "Yeah.",
                            },
                            {
                                "word": "as",
                                "start": 0.32,
                                "end": 0.79999995,
                                "confidence": 0.99902344,
                                "speaker": 0,
                                "speaker_confidence": 0.87,
                                "punctuated_word": "As",
                            },
                        ],
                    }
                ]
            }
        ],
        "utterances": [
            {
                "start": 0.08,
                "end": 3.5,
                "confidence": 0.98,
                "channel": 0,
                "transcript": "Yeah. As much as it's worth celebrating...",
                "words": [
                    {
                        "word": "yeah",
                        "start": 0.08,
                        "end": 0.32,
                        "confidence": 0.9975586,
                        "speaker": 0,
                        "speaker_confidence": 0.87,
                        "punctuated_word": "Yeah.",
                    }
                ],
                "speaker": 0,
                "id": "e2b0f3a8-7c1d-4f5e-9a3b-1c2d3e4f5a6b",
            }
        ],
    },
}

# What the backend "heard": two speakers, a pause of 1.2 s before the second.
HEARD = Transcript(
    "Yeah. As much as it's worth celebrating,",
    words=(
        Word("Yeah.", 0.08, 0.32, 0.9975586, "alice"),
        Word("As", 0.32, 0.8, 0.99902344, "alice"),
        Word("much", 2.0, 2.25, 0.9, "bob"),
    ),
    language="fr",
)


@pytest.fixture(autouse=True)
def key(monkeypatch) -> str:
    monkeypatch.setenv("DEEPGRAM_API_KEY", KEY)
    return KEY


def deepgram(server: LoopbackServer, **options) -> Deepgram:
    return Deepgram(base_url=server.url, min_wait_s=0, max_wait_s=0, **options)


def fake(**kw) -> LoopbackServer:
    kw.setdefault("api_key", KEY)
    return deepgram_server(lambda wav, request: HEARD, **kw)


def header(request, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


# --------------------------------------------------------------------------- parsing


def test_documented_example_is_parsed_and_the_request_follows_the_contract():
    routes = {("POST", "/v1/listen"): lambda request: Reply(200, EXAMPLE)}
    with LoopbackServer(routes, auth=("Authorization", f"Token {KEY}")) as server:
        got = deepgram(server, diarize=True).transcribe(CLIP, {"language": "en"})
    assert got == Transcript(
        "Yeah. As much as it's worth celebrating...",
        words=(
            Word("Yeah.", 0.08, 0.32, 0.9975586, "0"),
            Word("As", 0.32, 0.79999995, 0.99902344, "0"),
        ),
        turns=(SpeakerTurn("0", 0.08, 3.5),),
        language="en",
    )
    assert got.raw["metadata"]["duration"] == 25.933313
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/listen")
    assert {k: v[-1] for k, v in request.query.items()} == {
        "model": "nova-3",
        "punctuate": "true",
        "smart_format": "true",
        "diarize": "true",
        "utterances": "true",
        "language": "en",
    }
    assert header(request, "Content-Type") == "audio/wav"
    assert request.body == CLIP.to_wav_bytes()


def test_speakers_are_read_only_when_diarization_was_asked_for():
    routes = {("POST", "/v1/listen"): lambda request: Reply(200, EXAMPLE)}
    with LoopbackServer(routes) as server:
        got = deepgram(server).transcribe(CLIP)
    assert [w.speaker for w in got.words] == [None, None]
    assert got.turns == ()
    assert got.language is None  # none requested, none detected


def test_fake_round_trip_with_diarization():
    with fake() as server:
        got = deepgram(server, diarize=True).transcribe(CLIP, {"language": "en"})
    assert got == Transcript(
        "Yeah. As much as it's worth celebrating,",
        words=(
            Word("Yeah.", 0.08, 0.32, 0.9975586, "0"),
            Word("As", 0.32, 0.8, 0.99902344, "0"),
            Word("much", 2.0, 2.25, 0.9, "1"),
        ),
        turns=(SpeakerTurn("0", 0.08, 0.8), SpeakerTurn("1", 2.0, 2.25)),
        language="en",
    )
    words = got.raw["results"]["channels"][0]["alternatives"][0]["words"]
    assert [(w["word"], w["punctuated_word"], w["speaker"]) for w in words] == [
        ("yeah", "Yeah.", 0),
        ("as", "As", 0),
        ("much", "much", 1),
    ]
    assert got.raw["metadata"]["duration"] == 0.5


def test_without_diarize_or_utterances_there_are_no_speakers_and_no_utterances():
    with fake() as server:
        got = deepgram(server, utterances=False).transcribe(CLIP)
    assert [w.speaker for w in got.words] == [None, None, None]
    assert got.turns == ()
    assert "utterances" not in got.raw["results"]
    assert all(
        "speaker" not in w for w in got.raw["results"]["channels"][0]["alternatives"][0]["words"]
    )


def test_without_punctuation_words_are_deepgrams_plain_words():
    with fake() as server:
        got = deepgram(server, punctuate=False, smart_format=False).transcribe(CLIP)
    assert got.text == "yeah as much as it's worth celebrating"
    assert [w.text for w in got.words] == ["yeah", "as", "much"]


@pytest.mark.parametrize(
    ("options", "request_language", "sent", "reported"),
    [
        ({}, "es", {"language": "es"}, "es"),
        ({"language": "en-GB"}, "es", {"language": "en-GB"}, "en-GB"),
        ({}, None, {}, None),
        ({"detect_language": True}, "es", {"detect_language": "true"}, "fr"),
    ],
)
def test_language_sent_and_reported(options, request_language, sent, reported):
    with fake() as server:
        got = deepgram(server, **options).transcribe(CLIP, {"language": request_language})
    query = {k: v[-1] for k, v in server.requests[0].query.items()}
    assert {k: query[k] for k in ("language", "detect_language") if k in query} == sent
    assert got.language == reported


def test_url_mode_sends_the_url_as_json_and_no_audio():
    seen = []
    with deepgram_server(
        lambda wav, r: seen.append((wav, r.json())) or HEARD, api_key=KEY
    ) as server:
        got = deepgram(server).transcribe(CLIP, {"audio_url": "https://example.org/a.wav"})
    (request,) = server.requests
    assert header(request, "Content-Type") == "application/json"
    assert json.loads(request.body) == {"url": "https://example.org/a.wav"}
    assert seen == [(b"", {"url": "https://example.org/a.wav"})]
    assert got.text == HEARD.text


@pytest.mark.parametrize(
    "body",
    [
        {"request_id": "5d2a1c3e"},
        {"results": {"channels": []}},
        {"results": {"channels": [{"alternatives": [{"transcript": "hi"}]}]}},
    ],
)
def test_a_200_without_the_documented_structure_is_an_error_not_an_empty_transcript(body):
    routes = {("POST", "/v1/listen"): lambda request: Reply(200, body)}
    with LoopbackServer(routes) as server, pytest.raises(PermanentProviderError, match="200"):
        deepgram(server).transcribe(CLIP)


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, InputRejected), (401, AuthError), (403, AuthError), (413, InputRejected)],
)
def test_permanent_faults_are_sent_once_and_never_show_the_key(status, error):
    body = deepgram_error(f"Bad Request: something about {KEY}")
    with fake() as server, pytest.raises(error) as caught:
        server.inject(Fault(status=status, body=body))
        deepgram(server).transcribe(CLIP)
    assert len(server.requests) == 1
    assert caught.value.status == status
    assert "something about ***" in str(caught.value)
    assert KEY not in str(caught.value) and KEY not in (caught.value.provider_message or "")


def test_missing_key_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("DEEPGRAM_API_KEY")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AuthError, match="DEEPGRAM_API_KEY"):
        Deepgram().load()
    with pytest.raises(AuthError, match="DEEPGRAM_API_KEY"):
        Deepgram(base_url="http://127.0.0.1:9").transcribe(CLIP)


def test_unknown_options_are_clear_errors():
    with pytest.raises(TypeError, match="modle"):
        Deepgram(modle="nova-3")
    with pytest.raises(ValueError, match="model"):
        Deepgram(model="")
    with pytest.raises(ValueError, match="diarize"):
        Deepgram(diarize="yes")
    with (
        fake() as server,
        pytest.raises(
            ValueError, match=r"'langauge'.*known: \['audio_url', 'language', 'vocabulary'\]"
        ),
    ):
        deepgram(server).transcribe(CLIP, {"langauge": "en"})
    assert server.requests == []


def test_cache_identity_has_the_output_options_and_endpoint_never_the_key():
    identity = Deepgram(base_url="http://proxy/", diarize=True, max_attempts=2).cache_identity()
    assert identity == {
        "engine": "deepgram",
        "version": "api v1",
        "endpoint": "http://proxy",
        "model": "nova-3",
        "language": None,
        "detect_language": False,
        "diarize": True,
        "punctuate": True,
        "smart_format": True,
        "utterances": True,
    }
    assert KEY not in json.dumps(identity)
    assert Deepgram.DEFAULT_IN_FLIGHT == 100


# --------------------------------------------------------------------------- the fake itself


def test_fake_server_rejects_what_deepgram_documents_as_errors():
    wav = CLIP.to_wav_bytes()
    with fake() as server:
        url, auth = server.url + "/v1/listen", {"Authorization": f"Token {KEY}"}

        def post(params=None, body=wav, headers=None):
            return requests.post(url, params=params, data=body, headers={**auth, **(headers or {})})

        r = post({"model": "nova-3", "bogus": "1"})
        assert r.status_code == 400
        assert set(r.json()) == {"err_code", "err_msg", "request_id"}
        assert "bogus" in r.json()["err_msg"]
        assert post({"diarize": "yes"}).status_code == 400
        assert post({"language": "english please"}).status_code == 400
        r = post(body=b"not audio", headers={"Content-Type": "audio/wav"})
        assert (
            r.json()["err_msg"]
            == "Bad Request: failed to process audio: corrupt or unsupported data"
        )
        r = post(body=b'{"uri": 1}', headers={"Content-Type": "application/json"})
        assert (r.status_code, r.json()["category"]) == (400, "INVALID_JSON")
        r = requests.post(url, data=wav, headers={"Authorization": f"Bearer {KEY}"})
        assert (r.status_code, r.json()["err_code"]) == (401, "INVALID_AUTH")
        r = post({"callback": "https://example.org/hook"})
        assert r.status_code == 200 and set(r.json()) == {"request_id"}
