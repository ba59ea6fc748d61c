"""A real ``websockets`` server on 127.0.0.1, in its own thread, that plays a streaming provider:
it checks the handshake, reads the audio, replays a :class:`Script` timed on the audio it has
received, and injects faults. Each provider's contract (``stt_eval.testing.live.<provider>``)
says what the handshake must hold and how messages look; this module owns the timing::

    with pulse_live_server(script, api_key="k") as server:
        server.inject(LiveFault(close_at_s=1.0, close_code=1011))
        ...  # stream to server.url; the first connection closes 1011 at 1 s of audio

Timing: a cue due at audio time ``t`` goes out when the stream's audio clock reaches ``t``. The
server models the client's clock from the audio: the first frame arrives when the clock starts,
and the pace is the audio received over the wall time it took (a client sends a frame when its
clock reaches the frame's start, never before: the clock's start is the earliest that the recent
frames, taken back at that pace, imply). A cue due at ``t`` is sent at ``start + t / pace`` wall
seconds, between frames or after the last one: the script's delays hold at 1x, 10x or any pace,
and a frame sent late does not make an answer late.

After a fault (a close, a drop, silence) the server remembers where the stream was and which
cues it had not sent; the next connection carries on from there, as one transcript.
"""

from __future__ import annotations

import asyncio
import json
import logging
import selectors
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from stt_eval.providers.keys import ScrubFilter
from stt_eval.testing.live.contract import Connection, Contract, LiveFault
from stt_eval.testing.live.script import Cue, Script

LOG = logging.getLogger("stt_eval.testing.live")
"""The servers' websockets log (its debug lines hold the request headers): scrubbed of keys."""
if not any(isinstance(f, ScrubFilter) for f in LOG.filters):
    LOG.addFilter(ScrubFilter())

BASELINE_S = 0.2
"""Audio seconds over which the pace is first estimated (before that: 1x from the last frame)."""
RECENT_FRAMES = 50
"""Frames whose arrival times fix the clock's start (the earliest they imply)."""
RATE_ALLOWANCE_S = 0.5
"""Audio a client may be ahead of the allowed rate (a burst of buffered frames) before refusal."""


def precise_loop() -> asyncio.AbstractEventLoop:
    """An event loop whose timers fire on time: ``select`` waits in microseconds, where the
    default ``epoll`` rounds every wait up to the next millisecond (at 10x pace, 10 ms of
    audio)."""
    return asyncio.SelectorEventLoop(selectors.SelectSelector())


class LiveServer:
    """A loopback streaming server for one `contract`, replaying `script` on each connection.

    ``max_rate``: audio faster than this many times real time is refused (the contract's
    close); ``max_streams``: connections over this many open at once are refused.
    """

    def __init__(
        self,
        contract: Contract,
        script: Script,
        *,
        max_rate: float | None = None,
        max_streams: int | None = None,
    ) -> None:
        self.contract, self.script = contract, script
        self.max_rate, self.max_streams = max_rate, max_streams
        self.connections: list[Connection] = []
        self.open = 0
        self._faults: list[LiveFault] = []
        self._resume: tuple[float, tuple[Cue, ...]] | None = None
        self._lock = threading.Lock()
        self._loop = precise_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: Any = None

    @property
    def url(self) -> str:
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"ws://{host}:{port}"

    def inject(self, *faults: LiveFault) -> None:
        """Queue faults for the next connections, one per connection, in order."""
        with self._lock:
            self._faults.extend(faults)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def __aenter__(self) -> LiveServer:
        """Serve from the running event loop instead of a thread (the client and the server then
        share one loop: no thread hand-over in the timing, for latency tests at 10x)."""
        await self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def _start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process,
            compression=None,
            ping_interval=None,
            max_size=None,
            logger=LOG,
        )

    async def _stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    def _process(self, connection: ServerConnection, request: Any) -> Any:
        """Before the upgrade: the path, the query and (if refused so) the auth."""
        parts = urlsplit(request.path)
        if parts.path != self.contract.PATH:
            return connection.respond(404, f"no WebSocket at {parts.path}\n")
        problem = self.contract.check_query(dict(parse_qsl(parts.query)))
        if problem:
            return connection.respond(400, problem + "\n")
        how, status, body = self.contract.unauthorized()
        if how == "http" and not self.contract.authorized(request.headers):
            return connection.respond(status, body + "\n")
        how, status, body = self.contract.over_limit()
        if how == "http" and self._over():
            return connection.respond(status, body + "\n")
        return None

    def _over(self) -> bool:
        with self._lock:
            return self.max_streams is not None and self.open >= self.max_streams

    def take_resume(self) -> tuple[float, tuple[Cue, ...]]:
        with self._lock:
            resume, self._resume = self._resume, None
        return resume if resume is not None else (0.0, self.script.cues)

    def remember(self, position_s: float, left: tuple[Cue, ...]) -> None:
        with self._lock:
            self._resume = (position_s, left)

    async def _handle(self, ws: ServerConnection) -> None:
        parts = urlsplit(ws.request.path)
        auth = self.contract.AUTH_HEADER.lower()
        headers = {k: v for k, v in ws.request.headers.raw_items() if k.lower() != auth}
        conn = Connection(parts.path, dict(parse_qsl(parts.query)), headers)
        with self._lock:
            self.connections.append(conn)
            fault = self._faults.pop(0) if self._faults else LiveFault()
            over = self.max_streams is not None and self.open >= self.max_streams
            self.open += 1
        try:
            refusal = None
            if not self.contract.authorized(ws.request.headers):
                refusal = self.contract.unauthorized()
            elif over:
                refusal = self.contract.over_limit()
            if refusal is not None:
                conn.closed_with = refusal[1]
                for message in self.contract.session(conn).error(refusal[1], refusal[2]):
                    await ws.send(json.dumps(message))
                await ws.close(refusal[1], refusal[2])
                return
            await _Live(self, ws, conn, fault).run()
        finally:
            with self._lock:
                self.open -= 1


class _Live:
    """One connection's replay: audio in, cues out on time, faults on cue."""

    def __init__(
        self, server: LiveServer, ws: ServerConnection, conn: Connection, fault: LiveFault
    ):
        self.server, self.ws, self.conn, self.fault = server, ws, conn, fault
        self.contract = server.contract
        self.state = self.contract.session(conn)
        self.start_s, cues = server.take_resume()
        if fault.slow_first_partial_s:
            first = next((i for i, c in enumerate(cues) if c.kind == "partial"), None)
            if first is not None:
                slow = replace(cues[first], due_s=cues[first].due_s + fault.slow_first_partial_s)
                cues = cues[:first] + (slow,) + cues[first + 1 :]
        self.cues = list(cues)  # not yet queued, in order
        self.unsent = list(cues)  # not yet sent
        self.queue: asyncio.Queue[tuple[float, Any]] = asyncio.Queue()
        self.received_s = 0.0
        self.wall0: float | None = None
        self.pos0 = self.start_s
        self.recent: deque[tuple[float, float]] = deque(maxlen=RECENT_FRAMES)
        self.start = 0.0  # wall time the client's clock stood at pos0
        self.last = (time.monotonic(), self.start_s)  # (wall, audio position) of the last frame
        self.pace: float | None = None
        self.silent = False
        self.ended = False

    @property
    def position_s(self) -> float:
        return self.start_s + self.received_s

    async def run(self) -> None:
        emitter = asyncio.ensure_future(self._emit())
        try:
            for message in self.state.opening():
                await self.ws.send(json.dumps(message))
            async for message in self.ws:
                pcm = self.state.audio(message)
                if pcm is not None:
                    await self._audio(pcm)
                    continue
                doc = json.loads(message)
                self.conn.texts.append(doc)
                for answer in self.state.answer(doc):
                    await self.ws.send(json.dumps(answer))
                if self.state.is_end(doc) and not self.ended:
                    self.ended = True
                    self._end()
        except ConnectionClosed:
            pass
        finally:
            emitter.cancel()
            if self.conn.closed_with is None and self.ws.close_code is not None:
                self.conn.closed_with = self.ws.close_code

    async def _audio(self, pcm: bytes) -> None:
        now, seconds = time.monotonic(), len(pcm) / 2 / self.state.rate
        position = self.position_s
        if self.wall0 is None:
            self.wall0, self.pos0 = now, position
        elif now > self.wall0 and position - self.pos0 >= BASELINE_S:
            self.pace = (position - self.pos0) / (now - self.wall0)
        self.recent.append((now, position))
        if self.pace is not None:
            self.start = min(w - (p - self.pos0) / self.pace for w, p in self.recent)
        self.received_s += seconds
        self.conn.audio_s += seconds
        self.conn.chunks += 1
        self.last = (now, position)
        if self.silent:
            return
        await self._faults(position, now, seconds)
        if not self.silent:
            self._queue_due(self.position_s)

    async def _faults(self, position: float, now: float, seconds: float) -> None:
        fault, contract = self.fault, self.contract
        refusal = contract.bad_chunk(seconds)
        wall = now - (self.wall0 or now)
        ahead = self.received_s - (self.server.max_rate or 0) * wall
        if refusal is None and self.server.max_rate and ahead > RATE_ALLOWANCE_S:
            refusal = contract.too_fast(self.received_s, wall)
        if refusal is None and fault.close_at_s is not None and position >= fault.close_at_s:
            refusal = (fault.close_code, fault.close_reason)
        if refusal is not None:
            self._remember()
            self.conn.closed_with = refusal[0]
            for message in self.state.error(*refusal):
                await self.ws.send(json.dumps(message))
            await self.ws.close(*refusal)
        elif fault.drop_at_s is not None and position >= fault.drop_at_s:
            self._remember()
            self.ws.transport.abort()
        elif fault.silent_at_s is not None and position >= fault.silent_at_s:
            self._remember()
            self.silent = True

    def _remember(self) -> None:
        self.server.remember(self.position_s, tuple(self.unsent))

    def _deadline(self, due_s: float) -> float:
        if self.wall0 is None:  # no audio on this connection: nothing to time it by
            return time.monotonic()
        if self.pace is not None:
            return self.start + (due_s - self.pos0) / self.pace
        wall, position = self.last
        return wall + max(0.0, due_s - position)

    def _queue_due(self, until_s: float) -> None:
        while self.cues and self.cues[0].due_s <= until_s:
            cue = self.cues.pop(0)
            self.queue.put_nowait((self._deadline(cue.due_s), cue))

    def _end(self) -> None:
        self.cues = self.state.after_end(self.cues)
        self._queue_due(float("inf"))
        deadline = self._deadline(self.position_s)
        self.queue.put_nowait((deadline, "end"))

    async def _emit(self) -> None:
        while True:
            deadline, item = await self.queue.get()
            wait = deadline - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.silent:
                continue
            if item == "end":
                for message in self.state.terminal():
                    await self.ws.send(json.dumps(message))
                if self.state.closes_after_end:
                    await self.ws.close(1000)
                continue
            for message in self.state.messages(item, self.start_s):
                await self.ws.send(json.dumps(message))
            self.unsent.remove(item)
