"""One stream to a remote provider over ``websockets``: connect with the documented auth, send
the frames as they come (keep-alive when none come), stamp every message with the audio clock
when it arrives, send the documented end, wait for the last final — and on an early close,
reconnect or fail by the provider's rules.

Nothing here logs or raises a key: handshake and close errors are built from status codes, close
codes and the provider's words, all scrubbed; URLs are shown through :func:`safe_url`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from stt_eval.providers.keys import ScrubFilter, scrub
from stt_eval.streaming.events import AudioClock, StreamEvent, Timeline
from stt_eval.streaming.remote.base import (
    DROPPED,
    RECONNECT,
    SILENT,
    Parser,
    RemoteStream,
    safe_url,
)

LOG = logging.getLogger("stt_eval.websockets")
"""websockets' log of our connections (its debug lines hold the request headers): scrubbed."""
if not any(isinstance(f, ScrubFilter) for f in LOG.filters):
    LOG.addFilter(ScrubFilter())
CLOSE_TIMEOUT_S = 2.0
MAX_MESSAGE_BYTES = 16 * 2**20


class _Lost(Exception):
    """A connection that ended before the stream did: a close code, DROPPED or SILENT."""

    def __init__(self, loss: int | str, detail: str) -> None:
        detail = scrub(detail)  # a close reason or an error text may quote the request
        super().__init__(detail)
        self.loss = loss
        self.detail = detail


class WebSocketStream(RemoteStream):
    """A remote provider that streams: the StreamingProvider protocol over :class:`_Stream`."""

    async def stream(
        self,
        frames: AsyncIterator[bytes],
        sample_rate: int,
        clock: AudioClock,
        options: Mapping[str, Any] | None = None,
    ) -> Timeline:
        """Stream `frames` (mono PCM16 at `sample_rate`); the Timeline of what came back, or a
        typed ProviderError (``close_code`` set when a close ended it). ``options``: the
        sample's ``language``."""
        language = (options or {}).get("language")
        unknown = sorted(set(options or {}) - {"language"})
        if unknown:
            raise ValueError(f"{self.name}: unknown stream option(s) {unknown}; known: language")
        key = self.key()
        async with self.slot():
            return await _Stream(self, key, frames, sample_rate, clock, language).run()


class _Stream:
    def __init__(
        self,
        provider: RemoteStream,
        key: str,
        frames: AsyncIterator[bytes],
        sample_rate: int,
        clock: AudioClock,
        language: str | None,
    ) -> None:
        self.p, self.key, self.clock = provider, key, clock
        self.frames = frames.__aiter__()
        self.sample_rate, self.language = sample_rate, language
        self.encoder = provider.encoder(sample_rate)
        self.events: list[StreamEvent] = []
        self.sent_s = 0.0
        self.carry: list[tuple[str | bytes, float]] = []  # (wire, audio s) not yet sent
        self.next: asyncio.Future[bytes] | None = None
        self.exhausted = False
        self.reconnects = 0
        self.sessions: list[str] = []

    async def run(self) -> Timeline:
        try:
            while True:
                try:
                    await self._connection()
                    break
                except _Lost as lost:
                    rule = self.p.rule(lost.loss, lost.detail)
                    if rule == RECONNECT and self.reconnects < self.p.max_reconnects:
                        self.reconnects += 1
                        self.events.append(
                            StreamEvent("reconnect", self.clock.now_s(), detail=lost.detail)
                        )
                        continue
                    raise self._failure(lost, rule) from None
        finally:
            if self.next is not None and not self.next.done():
                self.next.cancel()
        meta = {"provider": self.p.name, "endpoint": safe_url(self.p.endpoint + self.p.PATH)}
        meta.update(reconnects=self.reconnects, sessions=list(self.sessions))
        return Timeline(tuple(self.events), round(self.sent_s, 6), False, meta)

    def _failure(self, lost: _Lost, rule: Any) -> ProviderError:
        cls = rule if isinstance(rule, type) else TransientProviderError
        code = lost.loss if isinstance(lost.loss, int) else None
        if rule == RECONNECT:
            what = f"{lost.detail}; gave up after {self.reconnects} reconnect(s)"
        else:
            what = lost.detail
        self.events.append(StreamEvent("error", self.clock.now_s(), detail=scrub(what)))
        fix = {
            AuthError: f"check {self.p.KEY_VARIABLE} (and the account's access)",
            InputRejected: "fix the audio or options; sending it again will not help",
        }.get(cls, "a re-run sends this stream again")
        return cls(scrub(f"{self.p.name} stream: {what} — {fix}"), close_code=code)

    # --------------------------------------------------------------- one connection

    async def _connection(self) -> None:
        url = self.p.url(self.sample_rate, self.language)
        ws = await self._connect(url)
        parser = self.p.parser(self.sent_s)
        sender = asyncio.ensure_future(self._send(ws, parser))
        receiver = asyncio.ensure_future(self._receive(ws, parser, sender))
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
            failed = sender.exception() if sender in done else None
            if failed is not None and not isinstance(failed, ConnectionClosed):
                raise failed  # a bug, not a lost connection (the receiver sees those)
            await receiver
        finally:
            for task in (sender, receiver):
                task.cancel()
            await asyncio.gather(sender, receiver, return_exceptions=True)
            if parser.session_id:
                self.sessions.append(parser.session_id)
            await ws.close()

    async def _connect(self, url: str) -> ClientConnection:
        shown = safe_url(url)
        try:
            return await connect(
                url,
                additional_headers=dict(self.p.auth_headers(self.key)),
                open_timeout=self.p.open_timeout_s,
                close_timeout=CLOSE_TIMEOUT_S,
                max_size=MAX_MESSAGE_BYTES,
                compression=None,
                logger=LOG,
            )
        except InvalidStatus as exc:
            raise _handshake_error(self.p, exc, shown) from None
        except InvalidURI:
            raise PermanentProviderError(
                scrub(f"{self.p.name}: {shown} is not a WebSocket URL; fix base_url")
            ) from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise TransientProviderError(
                scrub(f"{self.p.name}: could not open {shown} ({type(exc).__name__}: {exc})")
            ) from None

    async def _send(self, ws: ClientConnection, parser: Parser) -> None:
        for message in self.p.opening(self.sample_rate, self.language):
            await ws.send(message)
        await self._send_carried(ws)
        while not self.exhausted:
            if self.next is None:
                self.next = asyncio.ensure_future(anext(self.frames))
            done, _ = await asyncio.wait({self.next}, timeout=self.p.keepalive_s)
            if not done:
                if self.p.KEEPALIVE:
                    await ws.send(self.p.KEEPALIVE)
                continue
            future, self.next = self.next, None
            try:
                frame = future.result()
            except StopAsyncIteration:
                self.exhausted = True
                self.carry.extend(self.encoder.flush())
                break
            self.carry.extend(self.encoder.encode(frame))
            await self._send_carried(ws)
        await self._send_carried(ws)
        for message in self.p.end_messages():
            await ws.send(message)
        parser.ended()

    async def _send_carried(self, ws: ClientConnection) -> None:
        """Send what is encoded and not yet sent; what a closed connection did not take stays
        for the next one (so a reconnect continues from the unsent audio)."""
        while self.carry:
            wire, seconds = self.carry[0]
            await ws.send(wire)
            self.carry.pop(0)
            self.sent_s += seconds

    async def _receive(self, ws: ClientConnection, parser: Parser, sender: asyncio.Task) -> None:
        while not parser.done:
            try:
                async with asyncio.timeout(self.p.silence_timeout_s):  # no task per message
                    raw = await ws.recv()
            except TimeoutError:
                if self.p.ANSWERS_WHILE_SENDING or parser.sent_end:
                    raise _Lost(
                        SILENT, f"the server sent nothing for {self.p.silence_timeout_s:g} s"
                    ) from None
                continue
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == 1000 and parser.sent_end:
                    return  # a normal close after the end: nothing more was coming
                raise _lost(exc, parser) from None
            at_s = self.clock.now_s()
            try:
                doc = json.loads(raw)
            except ValueError:
                continue  # a binary or non-JSON frame is no transcript
            self.events.extend(parser.feed(doc, at_s))


def _lost(exc: ConnectionClosed, parser: Parser) -> _Lost:
    said = f" ({parser.error})" if parser.error else ""
    if exc.rcvd is None:
        return _Lost(DROPPED, f"the connection dropped without a close frame{said}")
    reason = f" {exc.rcvd.reason!r}" if exc.rcvd.reason else ""
    return _Lost(exc.rcvd.code, f"the server closed the stream with {exc.rcvd.code}{reason}{said}")


def _handshake_error(p: RemoteStream, exc: InvalidStatus, shown: str) -> ProviderError:
    status = exc.response.status_code
    body = exc.response.body.decode("utf-8", "replace")[:200].strip() if exc.response.body else ""
    said = scrub(body)
    message = scrub(f"{p.name}: HTTP {status} on opening {shown}: {said}")
    kw: dict[str, Any] = {"status": status, "provider_message": said}
    if status in (401, 403):
        return AuthError(f"{message} — check {p.KEY_VARIABLE} (and the account's access)", **kw)
    if status == 429 or status >= 500:
        after = exc.response.headers.get("Retry-After")
        seconds = float(after) if after and after.replace(".", "", 1).isdigit() else None
        return TransientProviderError(message, retry_after_s=seconds, **kw)
    if 400 <= status < 500:
        return InputRejected(f"{message} — fix the options; resending will not help", **kw)
    return PermanentProviderError(message, **kw)
