"""The Pulse provider against the loopback Pulse server (PROVIDER_CONTRACTS §1): the documented
request, the documented answers parsed by hand-written expectations, and every fault."""

from __future__ import annotations

import json

import numpy as np
import pytest
import requests

from stt_eval.audio.load import AudioClip
from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    PermanentProviderError,
    TransientProviderError,
)
from stt_eval.providers.http import metered
from stt_eval.providers.pulse import Pulse, transcript_from_pulse
from stt_eval.providers.registry import UnknownProvider, get_provider
from stt_eval.testing.pulse import pulse_fault, pulse_server
from stt_eval.testing.server import Fault, LoopbackServer, Reply
from stt_eval.types import SpeakerTurn, Transcript, Word

KEY = "sm-test-SECRET-key-0042"
CLIP = AudioClip(np.zeros(8000, dtype=np.float32), 16000)  # 0.5 s of silence

# PROVIDER_CONTRACTS §1.9: legacy endpoint, ?language=en&word_timestamps=true&diarize=true
SPEC_EXAMPLE = {
    "status": "success",
    "transcription": "Hello, how are you doing today? This is a word timestamp test.",
    "words": [
        {
            "start": 0.16,
            "end": 1.12,
            "speaker": 0,
            "speaker_confidence": 1,
            "word": "Hello,",
            "confidence": 0.9975,
        },
        {
            "start": 1.12,
            "end": 1.36,
            "speaker": 0,
            "speaker_confidence": 1,
            "word": "how",
            "confidence": 0.6402,
        },
    ],
    "utterances": [
        {"start": 0.16, "end": 2.88, "speaker": 0, "text": "Hello, how are you doing today?"}
    ],
    "metadata": {"duration": 5.28, "fileSize": 465740},
}

# What the backend "heard": the spec example's words, and two more by a second speaker
HEARD = Transcript(
    "Hello, how are you? Fine.",
    words=(
        Word("Hello,", 0.16, 1.12, 0.9975, "alice"),
        Word("how", 1.12, 1.36, 0.6402, "alice"),
        Word("are", 1.36, 1.5, 0.91, "alice"),
        Word("you?", 1.5, 1.9, 0.88, "alice"),
        Word("Fine.", 2.2, 2.6, 0.75, "bob"),
    ),
)


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("SMALLEST_API_KEY", KEY)
    return KEY


@pytest.fixture
def server(key):
    with pulse_server(lambda wav, request: HEARD, api_key=KEY) as s:
        yield s


def make(server, **kw) -> Pulse:
    """A Pulse client of the loopback server; fast retries and no plan rate limit."""
    kw = {"min_wait_s": 0, "max_wait_s": 0, "requests_per_minute": 60_000, **kw}
    return Pulse(base_url=server.url, **kw)


# --------------------------------------------------------------------------- happy paths


def test_spec_example_response_parses_to_hand_written_transcript(server):
    server.inject(Fault(status=200, body=SPEC_EXAMPLE))
    t = make(server, diarize=True).transcribe(CLIP, {"language": "en"})
    assert t == Transcript(
        "Hello, how are you doing today? This is a word timestamp test.",
        words=(
            Word("Hello,", 0.16, 1.12, 0.9975, "speaker_0"),
            Word("how", 1.12, 1.36, 0.6402, "speaker_0"),
        ),
        turns=(SpeakerTurn("speaker_0", 0.16, 2.88),),
        language="en",
    )
    assert t.raw["metadata"]["duration"] == 5.28
    (sent,) = server.requests
    assert sent.path == "/waves/v1/pulse/get_text"
    assert sent.query == {"language": ["en"], "word_timestamps": ["true"], "diarize": ["true"]}


def test_default_request_response_has_text_only(server):
    # §1.9: "Default request (no flags) → same but words: [], utterances: []"
    server.inject(Fault(status=200, body={**SPEC_EXAMPLE, "words": [], "utterances": []}))
    t = make(server).transcribe(CLIP, {"language": "en"})
    assert t == Transcript(SPEC_EXAMPLE["transcription"], language="en")


def test_round_trip_sends_wav_and_reads_words_speakers_turns(server):
    t = make(server, diarize=True).transcribe(CLIP, {"language": "en"})
    assert t.text == "Hello, how are you? Fine."
    assert t.words == (
        Word("Hello,", 0.16, 1.12, 0.9975, "speaker_0"),
        Word("how", 1.12, 1.36, 0.6402, "speaker_0"),
        Word("are", 1.36, 1.5, 0.91, "speaker_0"),
        Word("you?", 1.5, 1.9, 0.88, "speaker_0"),
        Word("Fine.", 2.2, 2.6, 0.75, "speaker_1"),
    )
    assert t.turns == (SpeakerTurn("speaker_0", 0.16, 1.9), SpeakerTurn("speaker_1", 2.2, 2.6))
    assert t.language == "en"
    (sent,) = server.requests
    assert sent.body == CLIP.to_wav_bytes()
    assert sent.headers["Content-Type"] == "application/octet-stream"
    assert "language" not in t.raw  # Pulse has no top-level language: the requested one is used
    assert t.raw["utterances"][0]["text"] == "Hello, how are you?"


def test_without_diarize_words_have_no_speakers_and_there_are_no_turns(server):
    t = make(server).transcribe(CLIP, {"language": "en"})
    assert [w.speaker for w in t.words] == [None] * 5
    assert t.turns == ()
    assert all("speaker" not in w for w in t.raw["words"])


def test_without_word_timestamps_no_words_or_utterances(server):
    t = make(server, word_timestamps=False).transcribe(CLIP, {"language": "en"})
    assert (t.text, t.words, t.turns) == ("Hello, how are you? Fine.", (), ())
    assert server.requests[0].param("word_timestamps") == "false"


def test_switches_are_sent_only_when_set(server):
    make(server, format=True, punctuate=False).transcribe(CLIP, {"language": "de"})
    assert server.requests[0].query == {
        "language": ["de"],
        "word_timestamps": ["true"],
        "diarize": ["false"],
        "format": ["true"],
        "punctuate": ["false"],
    }


def test_language_option_overrides_sample_and_region_is_dropped(server):
    make(server, language="fr").transcribe(CLIP, {"language": "en"})
    make(server).transcribe(CLIP, {"language": "en-US"})
    assert [r.param("language") for r in server.requests] == ["fr", "en"]


def test_no_language_legacy_omits_it_and_multi_languages_are_not_reported(server):
    t = make(server).transcribe(CLIP, {})
    assert "language" not in server.requests[0].query  # server default multi-eu
    assert t.language is None
    assert make(server, language="multi-eu").transcribe(CLIP).language is None


def test_unsupported_language_is_refused_before_sending(server):
    with pytest.raises(InputRejected, match="'yue' is not supported"):
        make(server).transcribe(CLIP, {"language": "yue"})
    assert server.requests == []


def test_unified_endpoint_for_pulse_sends_model_and_required_language(server):
    t = make(server, api="unified").transcribe(CLIP, {})
    (sent,) = server.requests
    assert sent.path == "/waves/v1/stt/"
    assert sent.param("model") == "pulse" and sent.param("language") == "multi-eu"
    assert t.text == "Hello, how are you? Fine."


def test_pulse_pro_uses_unified_endpoint_and_its_own_shape(server):
    t = make(server, model="pulse-pro", diarize=True).transcribe(CLIP, {})
    (sent,) = server.requests
    assert (sent.path, sent.param("model"), sent.param("language")) == (
        "/waves/v1/stt/",
        "pulse-pro",
        "en",
    )
    assert t.language == "en" and "utterances" not in t.raw and "request_id" in t.raw
    assert t.words[0] == Word("Hello,", 0.16, 1.12, 0.9975)  # Pro words carry no speaker
    assert t.turns == ()


def test_pulse_pro_language_comes_from_the_response():
    doc = {
        "status": "success",
        "transcription": "Hallo",
        "language": "de",
        "words": [],
        "metadata": {"duration": 1.0, "processing_time_ms": 3, "rtfx": 30, "num_chunks": 1},
        "request_id": "r-1",
        "totalBytes": 10,
    }
    assert transcript_from_pulse(doc, "en").language == "de"


def test_string_speakers_of_older_docs_give_the_same_labels():
    doc = {**SPEC_EXAMPLE, "words": [{**w, "speaker": "speaker_0"} for w in SPEC_EXAMPLE["words"]]}
    assert [w.speaker for w in transcript_from_pulse(doc, "en").words] == ["speaker_0"] * 2


# --------------------------------------------------------------------------- URL mode


@pytest.fixture
def audio_host():
    wav = CLIP.to_wav_bytes()
    with LoopbackServer({("GET", "/call.wav"): lambda request: Reply(200, wav)}) as host:
        yield host


def test_url_mode_sends_url_json_body(server, audio_host):
    url = audio_host.url + "/call.wav"
    t = make(server).transcribe(CLIP, {"language": "en", "audio_url": url})
    (sent,) = server.requests
    assert sent.json() == {"url": url}
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.param("word_timestamps") == "true"  # options stay in the query
    assert t.raw["metadata"]["filename"] == "call.wav"
    assert len(audio_host.requests) == 1


def test_pulse_pro_uploads_the_audio_instead_of_a_url(server, audio_host):
    provider = make(server, model="pulse-pro")
    assert not provider.accepts_url
    provider.transcribe(CLIP, {"audio_url": audio_host.url + "/call.wav"})
    assert server.requests[0].body == CLIP.to_wav_bytes() and audio_host.requests == []


def test_server_refuses_url_mode_for_pulse_pro(server):
    r = requests.post(
        f"{server.url}/waves/v1/stt/",
        params={"model": "pulse-pro", "language": "en"},
        json={"url": "http://127.0.0.1:9/a.wav"},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert r.status_code == 400 and "pulse-pro" in r.json()["error"]


# --------------------------------------------------------------------------- faults


def test_documented_400_is_rejected_input_sent_once(server):
    server.inject(pulse_fault(400))
    with pytest.raises(InputRejected) as err:
        make(server).transcribe(CLIP, {"language": "en"})
    assert err.value.provider_message == "Audio data too large"
    assert len(server.requests) == 1


def test_unified_413_is_rejected_input_sent_once(server):
    server.inject(pulse_fault(413, unified=True))
    with pytest.raises(InputRejected, match="File size exceeds maximum limit of 250MB"):
        make(server, api="unified").transcribe(CLIP, {"language": "en"})
    assert len(server.requests) == 1


@pytest.mark.parametrize("retry_after,waited", [("0.05", 0.05), (None, 0.0)])
def test_429_is_retried_honouring_retry_after(server, retry_after, waited):
    server.inject(pulse_fault(429, unified=True, retry_after=retry_after))
    with metered() as meter:
        t = make(server, api="unified").transcribe(CLIP, {"language": "en"})
    assert t.text == HEARD.text and len(server.requests) == 2
    assert meter.attempts == 2 and meter.wait_s == pytest.approx(waited)


def test_persistent_server_error_gives_up_as_transient(server):
    server.inject(*[pulse_fault(500)] * 3)
    with pytest.raises(TransientProviderError, match="gave up after 3 attempts") as err:
        make(server, max_attempts=3).transcribe(CLIP, {"language": "en"})
    assert err.value.provider_message == "Internal server error"


@pytest.mark.parametrize(
    "body,match",
    [
        ({"status": "processing", "request_id": "r-9"}, "asynchronous job"),
        ({"status": "error", "message": "model crashed"}, "model crashed"),
        ({"status": "success", "words": []}, "without a transcription"),
        ({"transcription": "hi"}, "status None"),
    ],
)
def test_a_200_without_a_transcript_is_an_error_not_an_empty_transcript(server, body, match):
    server.inject(Fault(status=200, body=body))
    with pytest.raises(PermanentProviderError, match=match):
        make(server).transcribe(CLIP, {"language": "en"})


def test_rate_limited_server_reports_retry_after(key):
    with pulse_server(lambda wav, request: HEARD, api_key=KEY, per_minute=1) as server:
        make(server, max_attempts=1).transcribe(CLIP, {"language": "en"})
        with pytest.raises(TransientProviderError) as err:
            make(server, max_attempts=1).transcribe(CLIP, {"language": "en"})
    assert err.value.status == 429 and err.value.retry_after_s == 1.0


# --------------------------------------------------------------------------- keys, limits, options


def test_missing_key_names_the_variable_and_sends_nothing(monkeypatch, tmp_path, server):
    monkeypatch.delenv("SMALLEST_API_KEY")
    monkeypatch.chdir(tmp_path)  # no .env up from here
    with pytest.raises(AuthError, match="SMALLEST_API_KEY"):
        make(server).transcribe(CLIP, {"language": "en"})
    with pytest.raises(AuthError, match="SMALLEST_API_KEY"):
        make(server).load()
    assert server.requests == []


def test_key_never_appears_in_an_error_message(server):
    body = {"errors": f"bad token {KEY}", "status": "error", "message": "Error handling audio data"}
    server.inject(Fault(status=400, body=body))
    with pytest.raises(InputRejected) as err:
        make(server).transcribe(CLIP, {"language": "en"})
    assert KEY not in str(err.value) and KEY not in (err.value.provider_message or "")
    assert "***" in str(err.value)


def test_over_the_size_limit_is_refused_before_sending(server, monkeypatch):
    monkeypatch.setattr(Pulse, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(InputRejected, match="over the provider's"):
        make(server).transcribe(CLIP, {"language": "en"})
    assert server.requests == []


def test_unknown_and_invalid_options_are_clear_errors():
    with pytest.raises(TypeError, match="beam_size"):
        Pulse(beam_size=3)
    with pytest.raises(UnknownProvider, match=r"\['beam_size'\].*valid options: .*diarize"):
        get_provider("pulse", beam_size=3)
    with pytest.raises(ValueError, match="pulse, pulse-pro"):
        Pulse(model="pulse-2")
    with pytest.raises(ValueError, match="unified endpoint"):
        Pulse(model="pulse-pro", api="legacy")
    with pytest.raises(ValueError, match="needs word_timestamps"):
        Pulse(diarize=True, word_timestamps=False)
    with pytest.raises(ValueError, match="not a Pulse language"):
        Pulse(language="klingon")


def test_cache_identity_has_what_changes_output_and_no_key(key):
    base = Pulse().cache_identity()
    assert base["endpoint"] == "https://api.smallest.ai" and base["api"] == "legacy"
    assert Pulse(api="legacy").cache_identity() == base
    assert Pulse(diarize=True).cache_identity() != base
    assert Pulse(api="unified").cache_identity() != base
    assert Pulse(min_wait_s=0).cache_identity() == base
    assert KEY not in json.dumps(Pulse().cache_identity())


# --------------------------------------------------------------------------- the server itself


def test_server_rejects_undocumented_parameters_with_the_documented_body(server):
    auth = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/octet-stream"}
    url = f"{server.url}/waves/v1/pulse/get_text"
    for params in ({"keywords": "Pulse:2"}, {"diarize": "yes"}, {"language": "xx"}):
        r = requests.post(url, params=params, data=CLIP.to_wav_bytes(), headers=auth)
        assert r.status_code == 400
        assert r.json()["status"] == "error" and r.json()["message"] == "Error handling audio data"
    r = requests.post(
        f"{server.url}/waves/v1/stt/",
        params={"language": "en"},
        data=CLIP.to_wav_bytes(),
        headers=auth,
    )
    assert r.status_code == 400 and "model" in r.json()["error"]


def test_server_401_bodies(server):
    url = f"{server.url}/waves/v1/pulse/get_text"
    assert requests.post(url, data=b"x").json() == {"message": "Unauthorized: No tokens provided"}
    bad = requests.post(url, data=b"x", headers={"Authorization": "Bearer nope"})
    assert (bad.status_code, bad.json()) == (401, {"error": "unauthorized"})
