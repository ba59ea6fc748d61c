"""What the streaming harness itself adds to a latency: 16 concurrent streams at 1x pace to a
zero-delay loopback server (every partial and final due the moment the audio holding its last
word arrives), so each message's receipt time minus its due time on the audio clock is the
harness's own delay: pacing, the client, the WebSocket round trip and the loopback's timer.
(The loopback server runs in a process of its own, as a remote one would; its timer's share
is counted too: an upper bound.)

Target: under 5 ms at p95 on these 2 cores. Printed beside the figure it adds to: pipecat's
published "time to final segment" (TTFS), README of pipecat-ai/stt-benchmark @eadbc9d:
TTFS = receipt time of the final transcript - (VAD stop time - VAD stop_secs), i.e. from the
end of speech to the last final, reported at p50/p95/p99 (Deepgram nova-3 247/298 ms p50/p95).

Run: `python benchmarks/bench_streaming.py` (``--loop epoll`` for asyncio's default loop, whose
timers wake up to 1 ms late; the default ``select`` loop times in microseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

from stt_eval.streaming.events import AudioClock, Timeline, paced_frames
from stt_eval.streaming.remote.pulse import PulseStream
from stt_eval.testing.live.pulse import pulse_live_server
from stt_eval.testing.live.script import Script, script_from_words
from stt_eval.testing.live.server import precise_loop
from stt_eval.types import Word

STREAMS = 16
SECONDS = 10.0
RATE = 16_000
FRAME_MS = 20
KEY = "bench-loopback-key-0000"
PIPECAT_TTFS_MS = {"deepgram nova-3": (247, 298), "assemblyai universal-streaming": (256, 362)}
"""pipecat-ai/stt-benchmark README @eadbc9d: TTFS p50/p95 in ms."""


def script() -> Script:
    words = [
        Word(f"w{i}", 0.3 + 0.25 * i, 0.5 + 0.25 * i) for i in range(int((SECONDS - 1) / 0.25))
    ]
    return script_from_words(words, partial_delay_s=0.0, final_delay_s=0.0, words_per_final=4)


async def one(provider: PulseStream, i: int) -> Timeline:
    """Stream `i` starts i/16 of a frame after the first: streams do not arrive in lockstep."""
    await asyncio.sleep(i * FRAME_MS / 1000 / STREAMS)
    clock = AudioClock(1.0)
    frames = paced_frames(bytes(int(SECONDS * RATE) * 2), RATE, FRAME_MS, clock)
    return await provider.stream(frames, RATE, clock, {"language": "en"})


async def streams(url: str) -> list[Timeline]:
    provider = PulseStream(base_url=url)
    return list(await asyncio.gather(*(one(provider, i) for i in range(STREAMS))))


def delays(timeline: Timeline, cues: Script, kind: str) -> list[float]:
    got = [e for e in timeline.events if e.kind == kind and e.text]
    want = [c for c in cues.cues if c.kind == kind]
    assert [e.text for e in got] == [c.text for c in want], "the script did not come back whole"
    return [(e.at_s - c.due_s) * 1000 for e, c in zip(got, want)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def serve(conn: Connection, stop: Event) -> None:
    """The loopback server's process: serve until told to stop, after sending its URL."""
    with pulse_live_server(script(), api_key=KEY) as server:
        conn.send(server.url)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=("select", "epoll"), default="select")
    args = parser.parse_args()
    os.environ["SMALLEST_API_KEY"] = KEY
    cues = script()
    ours, theirs = multiprocessing.Pipe()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(theirs, stop), daemon=True)
    server.start()
    try:
        url = ours.recv()
        start = time.perf_counter()
        factory = precise_loop if args.loop == "select" else asyncio.new_event_loop
        with asyncio.Runner(loop_factory=factory) as runner:
            timelines = runner.run(streams(url))
        wall = time.perf_counter() - start
        cpu = time.process_time()
    finally:
        stop.set()
        server.join(timeout=10)
    every = [d for t in timelines for k in ("partial", "final") for d in delays(t, cues, k)]
    finals = [d for t in timelines for d in delays(t, cues, "final")]
    print(
        f"{STREAMS} concurrent streams x {SECONDS:.0f} s at 1x, {FRAME_MS} ms frames, "
        f"{args.loop} loop, {wall:.1f} s wall, client CPU {cpu:.1f} s, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"harness-added latency, all {len(every)} messages: p50 {statistics.median(every):.2f} ms"
        f", p95 {pct(every, 0.95):.2f} ms, max {max(every):.2f} ms  (target p95 < 5 ms)"
    )
    print(
        f"  on finals only ({len(finals)}), i.e. added to a TTFS: p50 "
        f"{statistics.median(finals):.2f} ms, p95 {pct(finals, 0.95):.2f} ms"
    )
    for name, (p50, p95) in PIPECAT_TTFS_MS.items():
        print(f"  beside pipecat's published TTFS for {name}: p50 {p50} ms, p95 {p95} ms")


if __name__ == "__main__":
    main()
