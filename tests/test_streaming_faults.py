"""Injected faults end as each provider's documented reconnect or as a typed failure, and a key
never shows in a timeline, an error or a log line."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics

import pytest

from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    ProviderError,
    TransientProviderError,
)
from stt_eval.testing.live.contract import LiveFault

from .test_streaming_remote import (
    KEY,
    NAMES,
    PROVIDERS,
    build,
    run,
    script_for,
    serve,
    set_keys,
    words_over,
)


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    set_keys(monkeypatch)


def reconnected(name, fault, seconds=2.5, **options):
    script = script_for(seconds)
    with serve(name, script, max_rate=None) as server:
        server.inject(fault)
        timeline = run(build(name, server, **options), seconds, pace=10)
    return script, server, timeline


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (LiveFault(close_at_s=1.0, close_code=1011, close_reason="NET-0000"), "1011"),
        (LiveFault(drop_at_s=1.0), "dropped"),
    ],
    ids=["close-1011", "dropped"],
)
def test_a_server_error_or_a_dropped_connection_reconnects_and_continues(name, fault, said):
    script, server, timeline = reconnected(name, fault)
    (event,) = [e for e in timeline.events if e.kind == "reconnect"]
    assert said in event.detail
    assert len(server.connections) == 2
    assert timeline.text.lower() == script.text.lower()
    # the second connection got the audio the first did not: none lost twice, none sent twice
    total = sum(c.audio_s for c in server.connections)
    assert total == pytest.approx(2.5, abs=0.1)
    assert timeline.meta["reconnects"] == 1
    if name != "openai":  # word times continue on the stream's audio, not from 0 again
        last = [w for e in timeline.finals for w in e.words][-1]
        assert last.end == pytest.approx(words_over(2.5)[-1].end, abs=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_a_silent_server_is_left_for_a_new_connection(name):
    script, server, timeline = reconnected(name, LiveFault(silent_at_s=1.0), silence_timeout_s=0.3)
    (event,) = [e for e in timeline.events if e.kind == "reconnect"]
    assert "sent nothing for 0.3 s" in event.detail
    assert timeline.text.lower() == script.text.lower()


@pytest.mark.parametrize("name", NAMES)
def test_reconnects_are_bounded_then_the_stream_fails_as_transient(name):
    script = script_for(2.0)
    with serve(name, script, max_rate=None) as server:
        server.inject(*[LiveFault(close_at_s=0.5, close_code=1011)] * 3)
        with pytest.raises(TransientProviderError) as caught:
            run(build(name, server, max_reconnects=2), 2.0, pace=10)
    assert caught.value.close_code == 1011
    assert "gave up after 2 reconnect(s)" in str(caught.value)
    assert len(server.connections) == 3


EXPECTED_LIMIT = {
    "pulse": {"close_code": 1008},
    "assemblyai": {"close_code": 3009},
    "deepgram": {"status": 429},
    "openai": {"status": 429},
}
"""Over the concurrency limit: Pulse closes 1008 (documented), AssemblyAI 3009 (common-errors;
concurrency.mdx says 1008); Deepgram and OpenAI document nothing: their loopbacks answer 429."""


@pytest.mark.parametrize("name", NAMES)
def test_the_concurrency_limit_fails_as_transient_for_a_later_rerun(name):
    with (
        serve(name, script_for(1.0), max_rate=None, max_streams=0) as server,
        pytest.raises(TransientProviderError) as caught,
    ):
        run(build(name, server), 1.0, pace=10)
    for attribute, value in EXPECTED_LIMIT[name].items():
        assert getattr(caught.value, attribute) == value


def test_assemblyai_limit_under_its_other_documented_code_is_transient_too():
    with serve("assemblyai", script_for(1.5), max_rate=None) as server:
        reason = "Unauthorized connection: Too many concurrent sessions"
        server.inject(LiveFault(close_at_s=0.3, close_code=1008, close_reason=reason))
        with pytest.raises(TransientProviderError) as caught:
            run(build("assemblyai", server), 1.5, pace=10)
    assert caught.value.close_code == 1008 and not isinstance(caught.value, AuthError)


def test_max_streams_queues_streams_under_the_servers_limit():
    async def three(server):
        provider = build("pulse", server, max_streams=1)
        from stt_eval.streaming.events import AudioClock, paced_frames

        async def one():
            clock = AudioClock(10.0)
            frames = paced_frames(bytes(16000), 16000, 20, clock)
            return await provider.stream(frames, 16000, clock, {"language": "en"})

        return await asyncio.gather(one(), one(), one())

    with serve("pulse", script_for(1.0), max_streams=1) as server:
        timelines = asyncio.run(three(server))
    assert [c.closed_with for c in server.connections] == [1000, 1000, 1000]
    assert all(not [e for e in t.events if e.kind == "error"] for t in timelines)


@pytest.mark.parametrize(
    ("name", "code"), [("assemblyai", 3007), ("deepgram", 1008)], ids=["assemblyai", "deepgram"]
)
def test_audio_faster_than_the_documented_rate_is_refused(name, code):
    # the contract's own rate limit
    with serve(name, script_for(3.0)) as server, pytest.raises(InputRejected) as caught:
        run(build(name, server), 3.0, pace=10)
    assert caught.value.close_code == code
    assert "faster" in str(caught.value) or "Rate Exceeded" in str(caught.value)
    assert len(server.connections) == 1  # refused, not retried


def test_deepgram_takes_audio_up_to_its_documented_1_25x():
    script = script_for(1.6)
    with serve("deepgram", script) as server:
        timeline = run(build("deepgram", server), 1.6, pace=1.2)
    assert timeline.text.lower() == script.text.lower()


def test_deepgram_audio_it_cannot_decode_fails_as_input_rejected():
    with serve("deepgram", script_for(1.5), max_rate=None) as server:
        server.inject(LiveFault(close_at_s=0.5, close_code=1008, close_reason="DATA-0000"))
        with pytest.raises(InputRejected, match="DATA-0000"):
            run(build("deepgram", server), 1.5, pace=10)


@pytest.mark.parametrize("name", NAMES)
def test_a_wrong_key_is_an_auth_error_naming_the_variable(name, monkeypatch):
    variable = PROVIDERS[name][2]
    monkeypatch.setenv(variable, "sk_wrong_key_0123456789abcdef")
    with (
        serve(name, script_for(1.0), max_rate=None) as server,
        pytest.raises(AuthError, match=variable),
    ):
        run(build(name, server), 1.0, pace=10)


def test_a_slow_first_partial_arrives_that_much_later(fine_switching):
    script = script_for(1.5)
    with serve("pulse", script) as server:
        server.inject(LiveFault(slow_first_partial_s=0.3))
        timeline = run(build("pulse", server), 1.5, pace=1.0)
    first = timeline.partials[0]
    due = next(c.due_s for c in script.cues if c.kind == "partial")
    assert first.at_s - due == pytest.approx(0.3, abs=0.01)
    later = [
        e.at_s - c.due_s
        for e, c in zip(timeline.finals, [c for c in script.cues if c.kind == "final"])
    ]
    assert statistics.median(later) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("name", NAMES)
def test_a_key_never_shows_in_timelines_errors_or_logs(name, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with serve(name, script_for(1.5), max_rate=None) as server:
        server.inject(LiveFault(close_at_s=0.5, close_code=1011, close_reason=f"bad {KEY}"))
        seen.append(json.dumps(run(build(name, server), 1.5, pace=10).to_json()))
        server.inject(*[LiveFault(close_at_s=0.2, close_code=1011)] * 3)
        with pytest.raises(ProviderError) as caught:
            run(build(name, server, max_reconnects=1), 1.5, pace=10)
        seen += [str(caught.value), repr(caught.value)]
    assert "Authorization" in caplog.text or "GET" in caplog.text  # the handshake was logged
    seen.append(caplog.text)
    assert not [text for text in seen if KEY in text]
