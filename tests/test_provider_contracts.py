"""The contract every HTTP provider keeps, written once and run against each loopback server:
words, times and speakers of a round trip; retries on 429 (honouring Retry-After) and 5xx; a
rejected key is one request and an auth error naming the variable; malformed word entries are
dropped with a count; an answer with nothing usable fails. Provider-specific behaviour stays in
tests/test_provider_<name>.py."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest

from stt_eval.audio.load import AudioClip
from stt_eval.experiment import Experiment, ProviderSpec
from stt_eval.providers import http
from stt_eval.providers.assemblyai import AssemblyAI
from stt_eval.providers.deepgram import Deepgram
from stt_eval.providers.errors import AuthError, PermanentProviderError, TransientProviderError
from stt_eval.providers.http import metered
from stt_eval.providers.openai import OpenAICompatible
from stt_eval.providers.pulse import Pulse
from stt_eval.providers.remote import RemoteProvider
from stt_eval.run.grid import run_experiment
from stt_eval.testing.assemblyai import assemblyai_server
from stt_eval.testing.deepgram import deepgram_server
from stt_eval.testing.openai import openai_server
from stt_eval.testing.pulse import pulse_server
from stt_eval.testing.server import Fault, LoopbackServer
from stt_eval.types import Transcript, Word

from .conftest import SAMPLE

KEY = "contract-SECRET-key-7781"
CLIP = AudioClip(np.zeros(16000, dtype=np.float32), 16000)  # 1 s of silence
HEARD = Transcript(
    "Hello there. Fine thanks.",
    words=(
        Word("Hello", 0.12, 0.4, 0.9, "alice"),
        Word("there.", 0.4, 0.8, 0.8, "alice"),
        Word("Fine", 1.5, 1.75, 0.7, "bob"),
        Word("thanks.", 1.75, 2.25, 0.95, "bob"),
    ),
    language="en",
)
FAST = {"min_wait_s": 0, "max_wait_s": 0}


def _no_words_or_text(text_key: str, *lists: str) -> Callable[[Any], Any]:
    """An answer edit: the text blank and every entry of the named lists without times."""

    def edit(doc: Any) -> Any:
        _walk(doc, lambda entries: [{k: v for k, v in e.items() if k != "start"} for e in entries])
        return {**doc, text_key: "", **{name: [] for name in lists}}

    return edit


def _second_word_without_times(doc: Any) -> Any:
    """An answer edit: the second entry of every ``words`` list loses its ``start``."""

    def edit(entries: list) -> list:
        return [
            {k: v for k, v in e.items() if not (i == 1 and k == "start")}
            for i, e in enumerate(entries)
        ]

    _walk(doc, edit)
    return doc


def _walk(doc: Any, edit: Callable[[list], list]) -> None:
    """Apply `edit` to every list held under a ``words`` key, at any depth."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "words" and isinstance(value, list):
                doc[key] = edit(value)
            else:
                _walk(value, edit)
    elif isinstance(doc, list):
        for item in doc:
            _walk(item, edit)


@dataclass(frozen=True)
class Contract:
    """How to reach one provider's loopback server and where its answer comes from."""

    name: str
    variable: str
    serve: Callable[..., LoopbackServer]
    client: Callable[[str], RemoteProvider]
    send_path: str  # the first request of a transcription
    answer_path: str  # the request whose answer holds the transcript
    blank: Callable[[Any], Any]  # an answer edit leaving nothing usable
    said_on_401: str  # the provider's own words for a rejected key
    diarizes: bool = True
    time_places: int = 6  # AssemblyAI answers in integer milliseconds


def _assemblyai(url: str) -> AssemblyAI:
    return AssemblyAI(
        base_url=url, speaker_labels=True, poll_interval_s=0, sleep=lambda s: None, **FAST
    )


CONTRACTS = [
    Contract(
        "pulse",
        "SMALLEST_API_KEY",
        pulse_server,
        lambda url: Pulse(base_url=url, diarize=True, requests_per_minute=60_000, **FAST),
        "/waves/v1/pulse/get_text",
        "/waves/v1/pulse/get_text",
        _no_words_or_text("transcription", "utterances"),
        "unauthorized",
    ),
    Contract(
        "deepgram",
        "DEEPGRAM_API_KEY",
        deepgram_server,
        lambda url: Deepgram(base_url=url, diarize=True, **FAST),
        "/v1/listen",
        "/v1/listen",
        lambda doc: _no_words_or_text("x")(
            {**doc, "results": {"channels": [{"alternatives": [_blank_alt(doc)]}]}}
        ),
        "Invalid credentials.",
    ),
    Contract(
        "assemblyai",
        "ASSEMBLYAI_API_KEY",
        lambda backend, **kw: assemblyai_server(backend, polls_until_done=0, **kw),
        _assemblyai,
        "/v2/upload",
        "/v2/transcript/*",
        _no_words_or_text("text", "utterances"),
        "Invalid API key",
        time_places=3,
    ),
    Contract(
        "openai",
        "OPENAI_API_KEY",
        openai_server,
        lambda url: OpenAICompatible(base_url=url + "/v1", **FAST),
        "/v1/audio/transcriptions",
        "/v1/audio/transcriptions",
        _no_words_or_text("text", "segments"),
        "Incorrect API key provided.",
        diarizes=False,
    ),
]


def _blank_alt(doc: dict) -> dict:
    alt = doc["results"]["channels"][0]["alternatives"][0]
    return {**alt, "transcript": "", "words": [{"word": w["word"]} for w in alt["words"]]}


@pytest.fixture(params=CONTRACTS, ids=[c.name for c in CONTRACTS])
def contract(request, monkeypatch) -> Contract:
    monkeypatch.setenv(request.param.variable, KEY)
    return request.param


@pytest.fixture
def server(contract):
    with contract.serve(lambda wav, request: HEARD, api_key=KEY) as s:
        yield s


def _same_speakers(words) -> list[list[int]]:
    """Which word indices share a speaker (labels differ by provider: 0, "A", speaker_0)."""
    groups: dict[Any, list[int]] = {}
    for i, w in enumerate(words):
        groups.setdefault(w.speaker, []).append(i)
    return sorted(groups.values())


def test_round_trip_gives_the_words_their_times_and_speakers(contract, server):
    t = contract.client(server.url).transcribe(CLIP, {"language": "en"})
    assert [w.text.strip(".").lower() for w in t.words] == ["hello", "there", "fine", "thanks"]
    for got, heard in zip(t.words, HEARD.words, strict=True):
        assert (got.start, got.end) == pytest.approx((heard.start, heard.end), abs=1e-3)
    assert t.warnings == ()
    if contract.diarizes:
        assert _same_speakers(t.words) == [[0, 1], [2, 3]]
        assert [(round(x.start, 2), round(x.end, 2)) for x in t.turns] == [(0.12, 0.8), (1.5, 2.25)]


@pytest.mark.parametrize("retry_after", ["0.05", None])
def test_429_is_retried_honouring_retry_after(contract, server, retry_after):
    server.inject(Fault(status=429, retry_after=retry_after, path=contract.send_path))
    with metered() as meter:
        t = contract.client(server.url).transcribe(CLIP, {"language": "en"})
    assert len(t.words) == 4
    assert meter.wait_s == pytest.approx(0.05 if retry_after else 0.0)
    assert [r.path for r in server.requests].count(contract.send_path) == 2


@pytest.mark.parametrize(
    "fault",
    [Fault(status=500), Fault(status=502), Fault(status=503), Fault(truncate=True)]
    + [Fault(invalid_json=True)],
    ids=["500", "502", "503", "truncated-json", "html-page"],
)
def test_server_errors_and_broken_answers_are_retried_then_succeed(contract, server, fault):
    server.inject(replace(fault, path=contract.send_path))
    t = contract.client(server.url).transcribe(CLIP, {"language": "en"})
    assert len(t.words) == 4
    assert [r.path for r in server.requests].count(contract.send_path) == 2


def test_a_slow_answer_times_out_and_is_retried(contract, server, monkeypatch):
    monkeypatch.setattr(http, "READ_TIMEOUT_PER_AUDIO_S", 0.0)
    server.inject(Fault(delay_s=0.6, path=contract.send_path))
    provider = contract.client(server.url)
    provider = type(provider)(**{**vars(provider), "read_timeout_s": 0.2})
    assert len(provider.transcribe(CLIP, {"language": "en"}).words) == 4
    assert [r.path for r in server.requests].count(contract.send_path) == 2


def test_a_persistent_503_gives_up_as_transient_after_max_attempts(contract, server):
    server.inject(*[Fault(status=503, path=contract.send_path)] * 3)
    provider = contract.client(server.url)
    provider = type(provider)(**{**vars(provider), "max_attempts": 3})
    with pytest.raises(TransientProviderError, match="gave up after 3 attempts"):
        provider.transcribe(CLIP, {"language": "en"})
    assert len(server.requests) == 3


def test_a_rejected_key_is_one_request_and_an_auth_error_naming_the_variable(contract, monkeypatch):
    monkeypatch.setenv(contract.variable, "another-key-entirely")
    refused = pytest.raises(AuthError, match=contract.variable)
    with contract.serve(lambda wav, request: HEARD, api_key=KEY) as server, refused as caught:
        contract.client(server.url).transcribe(CLIP, {"language": "en"})
    assert len(server.requests) == 1
    assert caught.value.status == 401 and caught.value.provider_message == contract.said_on_401
    assert "another-key-entirely" not in str(caught.value)


def test_a_malformed_word_entry_is_dropped_and_counted(contract, server):
    server.inject(Fault(edit=_second_word_without_times, path=contract.answer_path))
    t = contract.client(server.url).transcribe(CLIP, {"language": "en"})
    assert [w.text.strip(".").lower() for w in t.words] == ["hello", "fine", "thanks"]
    (warning,) = t.warnings
    assert warning.startswith(f"{contract.name}: dropped 1 of 4 word entries")


def test_an_answer_with_nothing_usable_fails(contract, server):
    server.inject(Fault(edit=contract.blank, path=contract.answer_path))
    with pytest.raises(PermanentProviderError, match="nothing usable"):
        contract.client(server.url).transcribe(CLIP, {"language": "en"})


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("base_url", "api.example.com/v1", "base_url='api.example.com/v1' is not an http"),
        ("base_url", "http://h:99999", "base_url='http://h:99999'"),
        ("min_wait_s", 60.0, "min_wait_s=60.0"),
        ("max_attempts", 0, "max_attempts=0"),
    ],
)
def test_a_bad_sending_option_is_refused_when_the_provider_is_built(contract, option, value, named):
    provider = contract.client("http://127.0.0.1:1")
    with pytest.raises(ValueError, match=f"{contract.name}: .*{re.escape(named)}"):
        type(provider)(**{**vars(provider), option: value})


def test_in_a_run_dropped_entries_reach_the_row_warning_and_nothing_usable_fails_the_row(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("DEEPGRAM_API_KEY", KEY)
    rows = []
    for name in ("pocketsphinx_goforward.flac", "whisper_jfk.flac"):
        shutil.copy(SAMPLE / "audio" / name, tmp_path / name)
        rows.append({"id": name.split(".")[0], "audio": name, "text": "go forward"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    deepgram = next(c for c in CONTRACTS if c.name == "deepgram")
    with deepgram_server(lambda wav, request: HEARD, api_key=KEY) as server:
        server.inject(Fault(edit=_second_word_without_times), Fault(edit=deepgram.blank))
        options = (("base_url", server.url), ("diarize", True), ("min_wait_s", 0.0))
        exp = Experiment(
            dataset=tmp_path / "m.jsonl",
            providers=(ProviderSpec("deepgram", options),),
            workers=1,
            output=tmp_path / "r",
        )
        result = run_experiment(exp, progress=False, cache_root=tmp_path / "cache")
    # whichever recording was sent first got the broken answer, the other the empty one
    ok, failed = sorted(result.rows, key=lambda r: r.status != "ok")
    assert ok.status == "ok" and "deepgram: dropped 1 of 4 word entries" in ok.warning
    assert failed.status == "failed" and "nothing usable" in failed.error
