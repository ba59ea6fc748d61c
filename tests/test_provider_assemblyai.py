"""AssemblyAI provider against loopback servers that follow the documented contract.

Expected transcripts are written by hand from PROVIDER_CONTRACTS §4.7 (the documented example:
times in milliseconds, so ``"start": 240`` is 0.24 s) and from the fixed backend transcript
below, never produced by the code under test. Polling sleeps on a fake clock: no test waits.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import numpy as np
import pytest
import requests

from stt_eval.audio.load import AudioClip
from stt_eval.providers.assemblyai import AssemblyAI
from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    PermanentProviderError,
    TransientProviderError,
)
from stt_eval.providers.http import metered
from stt_eval.testing.assemblyai import AssemblyAIServer, assemblyai_error, assemblyai_server
from stt_eval.testing.server import Fault, LoopbackServer, Reply
from stt_eval.types import SpeakerTurn, Transcript, Word

KEY = "aai-test-key-5e1d07"
CLIP = AudioClip(np.linspace(-0.1, 0.1, 24000, dtype=np.float32), 16000)  # 1.5 s
EXAMPLE_ID = "6d5c4b3a-2f1e-4d0c-9b8a-7e6f5d4c3b2a"

# PROVIDER_CONTRACTS §4.7, verbatim.
EXAMPLE = {
    "id": "6d5c4b3a-2f1e-4d0c-9b8a-7e6f5d4c3b2a",
    "status": "completed",
    "audio_url": "https://cdn.assemblyai.com/upload/abc123",
    "speech_model": None,
    "speech_models": ["universal-3-pro"],
    "speech_model_used": "universal-3-pro",
    "language_code": "en_us",
    "language_model": "assemblyai_default",
    "acoustic_model": "assemblyai_default",
    "text": "Hello, how are you? I'm fine, thanks.",
    "confidence": 0.93,
    "audio_duration": 5,
    "punctuate": True,
    "format_text": True,
    "speaker_labels": True,
    "words": [
        {
            "text": "Hello,",
            "start": 240,
            "end": 640,
            "confidence": 0.99,
            "speaker": "A",
            "channel": None,
        },
        {
            "text": "how",
            "start": 660,
            "end": 820,
            "confidence": 0.98,
            "speaker": "A",
            "channel": None,
        },
        {
            "text": "I'm",
            "start": 2100,
            "end": 2300,
            "confidence": 0.95,
            "speaker": "B",
            "channel": None,
        },
    ],
    "utterances": [
        {
            "speaker": "A",
            "start": 240,
            "end": 1500,
            "confidence": 0.97,
            "text": "Hello, how are you?",
            "words": [
                {"text": "Hello,", "start": 240, "end": 640, "confidence": 0.99, "speaker": "A"}
            ],
        },
        {
            "speaker": "B",
            "start": 2100,
            "end": 3400,
            "confidence": 0.94,
            "text": "I'm fine, thanks.",
            "words": [
                {"text": "I'm", "start": 2100, "end": 2300, "confidence": 0.95, "speaker": "B"}
            ],
        },
    ],
    "webhook_auth": False,
    "auto_highlights": False,
    "redact_pii": False,
    "summarization": False,
    "language_confidence_threshold": None,
    "language_confidence": None,
    "error": None,
}

# What the backend "heard": the example's words, with the backend's own speaker names.
HEARD = Transcript(
    "Hello, how are you? I'm fine.",
    words=(
        Word("Hello,", 0.24, 0.64, 0.99, "alice"),
        Word("how", 0.66, 0.82, 0.98, "alice"),
        Word("I'm", 2.1, 2.3, 0.95, "bob"),
    ),
    language="de",
)


class FakeClock:
    """A monotonic clock that only moves when slept on; `on_sleep` runs before each sleep."""

    def __init__(self, on_sleep=None) -> None:
        self.now, self.sleeps, self.on_sleep = 0.0, [], on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def key(monkeypatch) -> str:
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", KEY)
    return KEY


def assemblyai(server: LoopbackServer, clock: FakeClock | None = None, **options) -> AssemblyAI:
    clock = clock or FakeClock()
    options.setdefault("poll_interval_s", 0.0)
    return AssemblyAI(
        base_url=server.url, min_wait_s=0, max_wait_s=0, sleep=clock.sleep, clock=clock, **options
    )


def fake(**kw) -> AssemblyAIServer:
    kw.setdefault("api_key", KEY)
    return assemblyai_server(lambda wav, request: HEARD, **kw)


def header(request, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


def paths(server: AssemblyAIServer) -> list[str]:
    """Method and path of every request, a job's id shown as ID."""
    out = []
    for request in server.requests:
        path = request.path
        for tid in server.jobs:
            path = path.replace(tid, "ID")
        out.append(f"{request.method} {path}")
    return out


# --------------------------------------------------------------------------- parsing


def test_documented_example_is_parsed_ms_to_seconds_and_the_requests_follow_the_contract():
    polls = iter([{"id": EXAMPLE_ID, "status": "processing"}, EXAMPLE])
    routes = {
        ("POST", "/v2/upload"): lambda r: Reply(
            200, {"upload_url": "https://cdn.assemblyai.com/upload/abc123"}
        ),
        ("POST", "/v2/transcript"): lambda r: Reply(200, {"id": EXAMPLE_ID, "status": "queued"}),
        ("GET", "/v2/transcript/*"): lambda r: Reply(200, next(polls)),
    }
    clock = FakeClock()
    with LoopbackServer(routes, auth=("Authorization", KEY)) as server:
        got = assemblyai(server, clock, speaker_labels=True, poll_interval_s=3.0).transcribe(
            CLIP, {"language": "en"}
        )
    # by hand: 240 ms = 0.24 s, 640 ms = 0.64 s, 660 → 0.66, 820 → 0.82, 2100 → 2.1, 2300 → 2.3;
    # utterances 240–1500 ms and 2100–3400 ms
    assert got == Transcript(
        "Hello, how are you? I'm fine, thanks.",
        words=(
            Word("Hello,", 0.24, 0.64, 0.99, "A"),
            Word("how", 0.66, 0.82, 0.98, "A"),
            Word("I'm", 2.1, 2.3, 0.95, "B"),
        ),
        turns=(SpeakerTurn("A", 0.24, 1.5), SpeakerTurn("B", 2.1, 3.4)),
        language="en_us",
    )
    assert got.raw["audio_duration"] == 5
    upload, create, poll1, poll2 = server.requests
    assert (upload.method, upload.path) == ("POST", "/v2/upload")
    assert header(upload, "Content-Type") == "application/octet-stream"
    assert upload.body == CLIP.to_wav_bytes()
    assert (create.method, create.path) == ("POST", "/v2/transcript")
    assert create.json() == {
        "audio_url": "https://cdn.assemblyai.com/upload/abc123",
        "speaker_labels": True,
        "punctuate": True,
        "format_text": True,
        "language_code": "en",
    }
    assert [(p.method, p.path) for p in (poll1, poll2)] == [
        ("GET", f"/v2/transcript/{EXAMPLE_ID}")
    ] * 2
    assert clock.sleeps == [3.0, 3.0]  # the documented interval, before each poll


def test_fake_round_trip_polls_queued_processing_completed():
    clock = FakeClock()
    with fake(polls_until_done=2) as server:
        got = assemblyai(server, clock, speaker_labels=True).transcribe(CLIP, {"language": "en"})
    assert got == Transcript(
        "Hello, how are you? I'm fine.",
        words=(
            Word("Hello,", 0.24, 0.64, 0.99, "A"),
            Word("how", 0.66, 0.82, 0.98, "A"),
            Word("I'm", 2.1, 2.3, 0.95, "B"),
        ),
        turns=(SpeakerTurn("A", 0.24, 0.82), SpeakerTurn("B", 2.1, 2.3)),
        language="en",
    )
    assert paths(server) == [
        "POST /v2/upload",
        "POST /v2/transcript",
        "GET /v2/transcript/ID",
        "GET /v2/transcript/ID",
        "GET /v2/transcript/ID",
    ]
    assert [w["start"] for w in got.raw["words"]] == [240, 660, 2100]
    assert got.raw["audio_duration"] == 2  # 1.5 s of audio, integer seconds
    assert len(clock.sleeps) == 3


def test_fake_serves_the_documented_shapes_and_units():
    with fake(polls_until_done=1) as server:
        auth = {"Authorization": KEY}
        url = requests.post(
            server.url + "/v2/upload", data=CLIP.to_wav_bytes(), headers=auth
        ).json()["upload_url"]
        assert url.startswith("https://cdn.assemblyai.com/upload/")
        job = requests.post(
            server.url + "/v2/transcript",
            json={"audio_url": url, "speaker_labels": True},
            headers=auth,
        ).json()
        assert (job["status"], job["text"], job["words"]) == ("queued", None, None)
        poll = server.url + "/v2/transcript/" + job["id"]
        assert requests.get(poll, headers=auth).json()["status"] == "queued"
        done = requests.get(poll, headers=auth).json()
        assert done["status"] == "completed"
        assert done["words"][0] == {
            "text": "Hello,",
            "start": 240,
            "end": 640,
            "confidence": 0.99,
            "speaker": "A",
            "channel": None,
        }
        assert [(u["speaker"], u["start"], u["end"]) for u in done["utterances"]] == [
            ("A", 240, 820),
            ("B", 2100, 2300),
        ]
        plain = requests.post(
            server.url + "/v2/transcript", json={"audio_url": url}, headers=auth
        ).json()
        requests.get(server.url + "/v2/transcript/" + plain["id"], headers=auth)
        done = requests.get(server.url + "/v2/transcript/" + plain["id"], headers=auth).json()
        assert [w["speaker"] for w in done["words"]] == [None, None, None]
        assert done["utterances"] is None
        assert done["language_code"] == "en_us"  # the documented default


def test_without_speaker_labels_words_have_no_speaker_and_there_are_no_turns():
    with fake() as server:
        got = assemblyai(server).transcribe(CLIP)
    assert [w.speaker for w in got.words] == [None, None, None]
    assert got.turns == ()
    assert "language_code" not in server.requests[1].json()


@pytest.mark.parametrize(
    ("options", "sent", "reported"),
    [
        (
            {"speech_model": "universal-3-pro", "language_code": "en-GB"},
            {"speech_models": ["universal-3-pro"], "language_code": "en_gb"},
            "en_gb",
        ),
        ({"language_detection": True}, {"language_detection": True}, "de"),
        (
            {"punctuate": False, "format_text": False},
            {"punctuate": False, "format_text": False, "language_code": "es"},
            "es",
        ),
    ],
)
def test_options_are_sent_as_documented(options, sent, reported):
    with fake() as server:
        got = assemblyai(server, **options).transcribe(CLIP, {"language": "es"})
    body = server.requests[1].json()
    assert {k: body[k] for k in sent} == sent
    assert not ({"language_code", "language_detection"} <= set(body))
    assert got.language == reported
    if options.get("punctuate") is False:
        assert got.text == "hello how are you i'm fine"


def test_url_mode_skips_the_upload_and_sends_the_url():
    seen = []
    backend = lambda wav, request: seen.append((wav, request.json()["audio_url"])) or HEARD  # noqa: E731
    with assemblyai_server(backend, api_key=KEY) as server:
        got = assemblyai(server).transcribe(CLIP, {"audio_url": "https://example.org/call.mp3"})
    assert [r.path for r in server.requests][:1] == ["/v2/transcript"]
    assert all(r.path != "/v2/upload" for r in server.requests)
    assert server.requests[0].json()["audio_url"] == "https://example.org/call.mp3"
    assert seen == [(b"", "https://example.org/call.mp3")]
    assert got.text == HEARD.text


@pytest.mark.parametrize(
    "final",
    [
        {"id": EXAMPLE_ID, "status": "completed", "text": None, "words": None},
        {"id": EXAMPLE_ID, "status": "archived"},
    ],
)
def test_a_completed_job_without_text_or_an_unknown_status_is_an_error(final):
    routes = {
        ("POST", "/v2/transcript"): lambda r: Reply(200, {"id": EXAMPLE_ID, "status": "queued"}),
        ("GET", "/v2/transcript/*"): lambda r: Reply(200, final),
    }
    with LoopbackServer(routes) as server, pytest.raises(PermanentProviderError, match=EXAMPLE_ID):
        assemblyai(server).transcribe(CLIP, {"audio_url": "https://example.org/a.wav"})


# --------------------------------------------------------------------------- jobs that fail


def test_a_job_error_is_input_rejected_with_the_reason_and_the_transcript_id():
    with fake() as server, pytest.raises(InputRejected) as caught:
        server.fail_next_job(f"Transcoding failed: unsupported codec (key {KEY})")
        assemblyai(server).transcribe(CLIP)
    (tid,) = server.jobs
    assert tid in str(caught.value)
    assert "Transcoding failed: unsupported codec (key ***)" in str(caught.value)
    assert caught.value.provider_message == "Transcoding failed: unsupported codec (key ***)"
    assert KEY not in str(caught.value)
    assert len(server.requests) == 5  # upload, create, queued, processing, error


def test_a_job_that_never_completes_times_out_naming_the_id_and_the_timeout():
    clock = FakeClock()
    with fake() as server, pytest.raises(TransientProviderError) as caught:
        server.stall_next_job()
        assemblyai(server, clock, poll_interval_s=2.0, poll_timeout_s=7.0).transcribe(CLIP)
    (tid,) = server.jobs
    assert tid in str(caught.value) and "7 s" in str(caught.value)
    assert clock.sleeps == [2.0, 2.0, 2.0, 1.0]  # the last sleep ends at the deadline
    assert len(server.requests) == 2 + 4


def test_an_unknown_upload_url_fails_the_job_like_assemblyai_does():
    with fake() as server, pytest.raises(InputRejected, match="Download error"):
        assemblyai(server).transcribe(CLIP, {"audio_url": "https://cdn.assemblyai.com/upload/nope"})


# --------------------------------------------------------------------------- HTTP faults


@pytest.mark.parametrize(
    ("status", "path", "error", "sent"),
    [
        (400, "/v2/transcript", InputRejected, 2),
        (401, "/v2/upload", AuthError, 1),
        (413, "/v2/upload", InputRejected, 1),
        (404, "/v2/transcript", InputRejected, 2),
    ],
)
def test_permanent_faults_are_sent_once_and_never_show_the_key(status, path, error, sent):
    with fake() as server, pytest.raises(error) as caught:
        server.inject(
            Fault(status=status, body=assemblyai_error(f"bad thing near {KEY}"), path=path)
        )
        assemblyai(server).transcribe(CLIP)
    assert len(server.requests) == sent
    assert caught.value.status == status
    assert "bad thing near ***" in str(caught.value) and KEY not in str(caught.value)


TRANSIENT = [
    (Fault(status=429, retry_after="0.05", body=assemblyai_error("Too Many Requests")), 0.05),
    (Fault(status=429, body=assemblyai_error("Too Many Requests")), 0.0),
    (Fault(status=500), 0.0),
    (Fault(status=503), 0.0),
    (Fault(truncate=True), 0.0),
    (Fault(invalid_json=True), 0.0),
]


@pytest.mark.parametrize("where", ["upload", "create", "poll"])
@pytest.mark.parametrize(("fault", "wait_s"), TRANSIENT)
def test_transient_faults_are_retried_then_succeed(fault, wait_s, where):
    target = {"upload": "/v2/upload", "create": "/v2/transcript"}.get(where)
    with fake(polls_until_done=1) as server, metered() as meter:
        clock = FakeClock()
        if target:
            server.inject(replace(fault, path=target))
        else:  # a poll's path holds the job's id: inject the fault just before the first poll
            clock.on_sleep = lambda n: n == 0 and server.inject(fault)
        if where == "create" and fault.status is None:
            # creating a job is billed: only an answer saying the job was not taken (429, 500,
            # 502, 503) is retried; a mangled answer may come from a job that exists, so it
            # fails rather than paying for a second one
            with pytest.raises(TransientProviderError):
                assemblyai(server, clock).transcribe(CLIP)
            assert len(server.requests) == 2 and len(server.jobs) <= 1
            return
        got = assemblyai(server, clock).transcribe(CLIP)
    assert got.words[0] == Word("Hello,", 0.24, 0.64, 0.99, None)
    # upload, create, 2 polls, and the retried request; a mangled poll was still answered by the
    # job (its "queued"), so its retry already gets "completed"
    mangled_poll = where == "poll" and fault.status is None
    assert len(server.requests) == (4 if mangled_poll else 5)
    assert meter.wait_s == pytest.approx(wait_s)
    assert len(server.jobs) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_create_answered_5xx_is_retried_because_no_job_was_taken(status):
    with fake(polls_until_done=0) as server:
        server.inject(Fault(status=status, path="/v2/transcript"))
        got = assemblyai(server, FakeClock()).transcribe(CLIP)
    assert got.text and len(server.jobs) == 1
    creates = [r for r in server.requests if r.path == "/v2/transcript"]
    assert len(creates) == 2


def test_a_create_that_times_out_is_not_sent_again_the_job_may_exist():
    with fake(polls_until_done=0) as server:
        server.inject(Fault(delay_s=0.6, path="/v2/transcript"))
        with pytest.raises(TransientProviderError, match="timed out"):
            assemblyai(server, FakeClock(), read_timeout_s=0.2).transcribe(CLIP)
        time.sleep(0.5)  # the server finishes the request it was slow to answer
    assert [r.path for r in server.requests].count("/v2/transcript") == 1
    assert len(server.jobs) == 1  # the job the client never heard of: sending again pays twice


def test_persistent_503_on_a_poll_gives_up_after_max_attempts():
    with fake() as server, pytest.raises(TransientProviderError, match="gave up after 3"):
        clock = FakeClock(on_sleep=lambda n: server.inject(*[Fault(status=503)] * 3))
        assemblyai(server, clock, max_attempts=3).transcribe(CLIP)
    assert len(server.requests) == 2 + 3


# --------------------------------------------------------------------------- keys and options


def test_missing_key_names_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("ASSEMBLYAI_API_KEY")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AuthError, match="ASSEMBLYAI_API_KEY"):
        AssemblyAI().load()
    with pytest.raises(AuthError, match="ASSEMBLYAI_API_KEY"):
        AssemblyAI(base_url="http://127.0.0.1:9").transcribe(CLIP)


def test_unknown_or_invalid_options_are_clear_errors():
    with pytest.raises(TypeError, match="speaker_label"):
        AssemblyAI(speaker_label=True)
    with pytest.raises(ValueError, match="poll_timeout_s"):
        AssemblyAI(poll_timeout_s=0)
    with pytest.raises(ValueError, match="poll_interval_s"):
        AssemblyAI(poll_interval_s=-1)
    with pytest.raises(ValueError, match="speaker_labels"):
        AssemblyAI(speaker_labels="true")
    with (
        fake() as server,
        pytest.raises(
            ValueError, match=r"'audio'.*known: \['audio_url', 'language', 'vocabulary'\]"
        ),
    ):
        assemblyai(server).transcribe(CLIP, {"audio": "https://example.org/a.wav"})
    assert server.requests == []


def test_cache_identity_leaves_out_polling_and_the_key():
    a = AssemblyAI(speaker_labels=True, poll_interval_s=1.0, poll_timeout_s=10.0)
    b = AssemblyAI(speaker_labels=True, sleep=lambda s: None, clock=lambda: 0.0)
    assert (
        a.cache_identity()
        == b.cache_identity()
        == {
            "engine": "assemblyai",
            "version": "api v2",
            "endpoint": "https://api.assemblyai.com",
            "speech_model": None,
            "language_code": None,
            "language_detection": False,
            "speaker_labels": True,
            "punctuate": True,
            "format_text": True,
        }
    )
    assert KEY not in json.dumps(a.cache_identity())
    assert AssemblyAI.MAX_UPLOAD_BYTES == 2_200_000_000
    assert AssemblyAI(speech_model="universal-3-pro").model == "universal-3-pro"


# --------------------------------------------------------------------------- the fake itself


def test_fake_server_rejects_what_assemblyai_documents_as_errors():
    with fake() as server:
        auth = {"Authorization": KEY}

        def create(body):
            return requests.post(server.url + "/v2/transcript", json=body, headers=auth)

        for body in (
            {"audio_url": "https://example.org/a.wav", "word_boost": ["x"]},
            {"audio_url": "https://example.org/a.wav", "speakers": 2},
            {"speaker_labels": True},
            {"audio_url": "https://example.org/a.wav", "punctuate": "yes"},
            {"audio_url": "https://example.org/a.wav", "speech_models": "best"},
        ):
            r = create(body)
            assert r.status_code == 400 and set(r.json()) == {"error"}, body
        assert "keyterms_prompt" in create({"audio_url": "u", "word_boost": []}).json()["error"]
        r = requests.post(server.url + "/v2/upload", data=b"", headers=auth)
        assert r.status_code == 400
        r = requests.get(server.url + "/v2/transcript/nope", headers=auth)
        assert (r.status_code, set(r.json())) == (404, {"error"})
        r = requests.post(
            server.url + "/v2/upload", data=b"x", headers={"Authorization": f"Bearer {KEY}"}
        )
        assert (r.status_code, set(r.json())) == (401, {"error"})
