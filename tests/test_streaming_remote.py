"""Remote streaming providers against loopback WebSocket servers that follow each documented
contract: the scripted text comes back, latencies match the script's delays on the audio clock
at 1x and 10x, and the handshake and messages hold the documented fields."""

from __future__ import annotations

import asyncio
import statistics

import pytest

from stt_eval.streaming.events import AudioClock, Timeline, paced_frames
from stt_eval.streaming.remote.assemblyai import AssemblyAIStream
from stt_eval.streaming.remote.deepgram import DeepgramStream
from stt_eval.streaming.remote.openai import OpenAIStream
from stt_eval.streaming.remote.pulse import PulseStream
from stt_eval.testing.live.assemblyai import assemblyai_live_server
from stt_eval.testing.live.deepgram import deepgram_live_server
from stt_eval.testing.live.openai import openai_live_server
from stt_eval.testing.live.pulse import pulse_live_server
from stt_eval.testing.live.script import Script, script_from_words
from stt_eval.testing.live.server import precise_loop
from stt_eval.types import Word

KEY = "sk_loopback_7Hq2Zt9Lx4Vb8Nm3"
RATE = 16_000
WORDS = "the quick brown fox jumps over the lazy dog and then it sleeps".split()

PROVIDERS = {
    "pulse": (PulseStream, pulse_live_server, "SMALLEST_API_KEY", ""),
    "deepgram": (DeepgramStream, deepgram_live_server, "DEEPGRAM_API_KEY", ""),
    "assemblyai": (AssemblyAIStream, assemblyai_live_server, "ASSEMBLYAI_API_KEY", ""),
    "openai": (OpenAIStream, openai_live_server, "OPENAI_API_KEY", "/v1"),
}
NAMES = sorted(PROVIDERS)


def words_over(seconds: float, every: float = 0.25) -> list[Word]:
    """Words spoken from 0.3 s on, one every `every` s (0.2 s long), ending before `seconds`
    minus the last final's delay."""
    out = []
    for i, text in enumerate(WORDS * 20):
        start = 0.3 + every * i
        if start + 0.2 > seconds - 0.6:
            break
        out.append(Word(text, round(start, 3), round(start + 0.2, 3)))
    return out


def script_for(seconds: float, every: float = 0.25) -> Script:
    return script_from_words(
        words_over(seconds, every), partial_delay_s=0.2, final_delay_s=0.4, words_per_final=3
    )


def build(name, server, **options):
    cls, _, _, suffix = PROVIDERS[name]
    return cls(base_url=server.url + suffix, **options)


def serve(name, script, **limits):
    return PROVIDERS[name][1](script, api_key=KEY, **limits)


def run(provider, seconds: float, pace: float | None, frames=None, frame_ms=20) -> Timeline:
    """Stream `seconds` of audio at `pace` (in an event loop whose timers fire on time)."""
    clock = AudioClock(pace)
    pcm = bytes(int(seconds * RATE) * 2)
    source = frames(pcm, clock) if frames else paced_frames(pcm, RATE, frame_ms, clock)
    with asyncio.Runner(loop_factory=precise_loop) as runner:
        return runner.run(provider.stream(source, RATE, clock, {"language": "en"}))


def run_beside(name, server, seconds: float, pace: float, frame_ms: int) -> Timeline:
    """Stream as :func:`run` does, with the server serving from the client's own event loop."""

    async def both() -> Timeline:
        async with server:
            clock = AudioClock(pace)
            frames = paced_frames(bytes(int(seconds * RATE) * 2), RATE, frame_ms, clock)
            return await build(name, server).stream(frames, RATE, clock, {"language": "en"})

    with asyncio.Runner(loop_factory=precise_loop) as runner:
        return runner.run(both())


def set_keys(monkeypatch) -> None:
    """Every provider's key variable set to KEY (the loopback servers accept only KEY)."""
    for _, _, variable, _ in PROVIDERS.values():
        monkeypatch.setenv(variable, KEY)


@pytest.fixture(autouse=True)
def _keys(monkeypatch):
    set_keys(monkeypatch)


def latency_errors(timeline: Timeline, script: Script) -> list[float]:
    """Receipt time minus due time, for each scripted partial and final matched in order."""
    errors = []
    for kind in ("partial", "final"):
        got = [e for e in timeline.events if e.kind == kind and e.text]
        want = [c for c in script.cues if c.kind == kind]
        assert [e.text.lower() for e in got] == [c.text.lower() for c in want]
        errors += [e.at_s - c.due_s for e, c in zip(got, want)]
    return errors


@pytest.mark.parametrize("name", NAMES)
def test_the_happy_path_gives_the_scripted_text_and_word_times(name):
    script = script_for(2.5)
    with serve(name, script, max_rate=None) as server:
        timeline = run(build(name, server), 2.5, pace=10)
    assert timeline.text.lower() == script.text.lower()
    assert len(timeline.partials) >= len(words_over(2.5)) // 2
    assert timeline.audio_s == pytest.approx(2.5)
    assert not any(e.kind in ("reconnect", "error") for e in timeline.events)
    if name != "openai":  # OpenAI's realtime events carry no word times
        got = [(w.text.lower(), w.start, w.end) for e in timeline.finals for w in e.words]
        want = [(w.text, w.start, w.end) for w in words_over(2.5)]
        assert [g[0] for g in got] == [w[0] for w in want]
        times = [t for g in got for t in g[1:]]
        assert times == pytest.approx([t for w in want for t in w[1:]], abs=0.002)


FRAME_MS = {"assemblyai": 50}
"""AssemblyAI takes 50-1000 ms per message: 50 ms frames go as they come; 20 ms frames are held
until three make a chunk (next test)."""


LATENCY_CASES = [
    pytest.param(1.0, 2.5, 0.015, id="1x"),
    pytest.param(1.0, 2.5, 0.005, id="1x-within-5ms", marks=pytest.mark.slow),
    pytest.param(10.0, 8.0, 0.010, id="10x-within-10ms", marks=pytest.mark.slow),
]
"""(pace, audio seconds, tolerance of the median). The 5 ms bound is the spec at 1x. At 10x,
5 ms of audio is 0.5 ms of wall time, about what one message's trip through a real socket and
two asyncio loops takes here: a quiet machine measured medians of 5.1-8.2 ms of audio, so the
bound is 10 ms of audio (1 ms of wall time), what the harness can honestly hold. The fast case
checks the timing itself (a delay lost or doubled, a chunk held) with room for a busy machine,
since 5 ms of audio is 5 ms of wall time at 1x and 0.5 ms at 10x, which a loaded 2-core
machine's scheduler alone can take."""


@pytest.mark.parametrize(("pace", "seconds", "tolerance"), LATENCY_CASES)
@pytest.mark.parametrize("name", NAMES)
def test_latency_matches_the_scripts_delays(name, pace, seconds, tolerance, fine_switching):
    script = script_for(seconds, every=0.1)  # many messages: a median that stands
    limits = {"max_rate": None} if pace > 1 else {}  # at 1x the contract's own rate limit holds
    # the server serves from the client's event loop: no thread hand-over in the timing (5 ms
    # of audio is 0.5 ms of wall time at 10x)
    server = serve(name, script, **limits)
    timeline = run_beside(name, server, seconds, pace, FRAME_MS.get(name, 20))
    errors = latency_errors(timeline, script)
    assert abs(statistics.median(errors)) <= tolerance, errors


def test_assemblyai_20ms_frames_wait_for_a_50ms_chunk(fine_switching):
    """Three 20 ms frames make the smallest chunk AssemblyAI takes: a chunk leaves when its last
    frame starts, 40 ms after its first; the server hears the audio that much later."""
    script = script_for(2.5, every=0.1)
    with serve("assemblyai", script) as server:
        timeline = run(build("assemblyai", server), 2.5, pace=1.0, frame_ms=20)
    assert statistics.median(latency_errors(timeline, script)) == pytest.approx(0.040, abs=0.015)


def test_pulse_sends_the_documented_handshake_and_end():
    with serve("pulse", script_for(1.5)) as server:
        run(build("pulse", server), 1.5, pace=10)
    conn = server.connections[0]
    assert conn.path == "/waves/v1/stt/live"
    assert conn.query == {
        "model": "pulse",
        "language": "en",
        "encoding": "linear16",
        "sample_rate": "16000",
        "word_timestamps": "true",
    }
    assert conn.texts == [{"type": "close_stream"}]
    assert conn.audio_s == pytest.approx(1.5)


def test_deepgram_sends_the_documented_query_keepalive_and_close_stream():
    async def stalling(pcm, clock):  # audio stops for 0.3 s mid-stream: a keep-alive is due
        async for i, frame in _enumerate(paced_frames(pcm, RATE, 20, clock)):
            if i == 20:
                await asyncio.sleep(0.3)
            yield frame

    with serve("deepgram", script_for(1.5), max_rate=None) as server:
        run(build("deepgram", server, keepalive_s=0.1), 1.5, pace=10, frames=stalling)
    conn = server.connections[0]
    assert conn.path == "/v1/listen"
    assert {
        k: conn.query[k] for k in ("encoding", "sample_rate", "channels", "interim_results")
    } == {
        "encoding": "linear16",
        "sample_rate": "16000",
        "channels": "1",
        "interim_results": "true",
    }
    assert conn.query["model"] == "nova-3"
    assert {"type": "KeepAlive"} in conn.texts
    assert conn.texts[-1] == {"type": "CloseStream"}


def test_assemblyai_sends_50ms_chunks_the_documented_query_and_terminate():
    with serve("assemblyai", script_for(1.5), max_rate=None) as server:
        run(build("assemblyai", server), 1.47, pace=10)
    conn = server.connections[0]
    assert conn.path == "/v3/ws"
    assert conn.query == {
        "speech_model": "universal-streaming-english",
        "sample_rate": "16000",
        "encoding": "pcm_s16le",
        "format_turns": "true",
    }
    assert conn.chunks == 25  # 24 chunks of 3 x 20 ms, the last 30 ms padded to 50 ms
    assert conn.texts == [{"type": "Terminate"}]
    assert conn.closed_with == 1000


def test_openai_sends_the_transcription_session_and_24khz_audio():
    with serve("openai", script_for(1.5)) as server:
        timeline = run(build("openai", server), 1.5, pace=10)
    conn = server.connections[0]
    assert conn.path == "/v1/realtime" and conn.query == {"intent": "transcription"}
    update = conn.texts[0]
    assert update["type"] == "session.update"
    assert update["session"]["type"] == "transcription"
    assert update["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert update["session"]["audio"]["input"]["transcription"]["model"] == "gpt-4o-transcribe"
    assert update["session"]["audio"]["input"]["transcription"]["language"] == "en"
    assert conn.texts[-1] == {"type": "input_audio_buffer.commit"}
    # 1.5 s at 16 kHz became 1.5 s at 24 kHz (the server counts 24 kHz samples)
    assert conn.audio_s == pytest.approx(1.5, abs=0.001)
    assert timeline.text == script_for(1.5).text


def test_openai_resampling_keeps_a_tone_without_seams_at_frame_boundaries():
    import numpy as np

    from stt_eval.streaming.remote.openai import _Append

    t = np.arange(RATE) / RATE
    tone = (np.sin(2 * np.pi * 440 * t) * 10000).astype("<i2").tobytes()
    encoder = _Append(RATE)
    out = b"".join(encoder.resample(tone[i : i + 640]) for i in range(0, len(tone), 640))
    got = np.frombuffer(out, "<i2").astype(float)
    want = np.sin(2 * np.pi * 440 * np.arange(len(got)) / 24000) * 10000
    assert len(got) == 24000 - 1  # the last output waits for its right neighbour
    assert np.max(np.abs(got - want)) < 0.01 * 10000


async def _enumerate(source):
    i = 0
    async for item in source:
        yield i, item
        i += 1
