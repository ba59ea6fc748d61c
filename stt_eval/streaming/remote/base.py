"""What every remote WebSocket streaming provider shares: its options (``base_url``,
``max_streams``, timeouts, reconnects), its key, its concurrency slot, and its reconnect-or-fail
rules. Each provider module adds its URL, handshake, frames and message parsing.

A rule says what a stream does when its connection ends early: ``RECONNECT`` (open a new
connection, record a ``reconnect`` event, continue from the audio not yet sent) or an error
class (the stream ends as that typed failure). Keys are close codes and two named losses:
``DROPPED`` (the TCP connection went without a close frame) and ``SILENT`` (no message for
``silence_timeout_s`` while one was due).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stt_eval.providers.errors import ProviderError, TransientProviderError
from stt_eval.providers.keys import api_key, scrub
from stt_eval.providers.remote import is_url
from stt_eval.streaming.events import StreamEvent

RECONNECT = "reconnect"
DROPPED = "dropped"
SILENT = "silent"
Rule = str | type[ProviderError]

OPEN_TIMEOUT_S = 10.0
SILENCE_TIMEOUT_S = 10.0
"""Wall seconds without a message, while one is due, before a server counts as silent (Deepgram's
own idle timeout is 10 s, audio-keep-alive.mdx)."""
MAX_RECONNECTS = 2
KEEPALIVE_S = 4.0
"""Deepgram: send KeepAlive "every 3-5 seconds" while no audio goes (audio-keep-alive.mdx)."""
SLOT_POLL_S = 0.005


@dataclass(frozen=True)
class RemoteStream:
    """Options of every remote streaming provider (defaults: the vendor's endpoint and plan).

    ``base_url`` (``ws(s)://``, or the batch provider's ``http(s)://``, streamed to as ws(s) on
    the same host, so one experiment with both modes has one base_url) points it at a proxy or
    a loopback test server;
    ``max_streams`` caps this process's open streams to the provider (default: the plan's
    documented concurrency, where there is one); ``silence_timeout_s`` is how long a server may
    say nothing while an answer is due; ``max_reconnects`` bounds the reconnects of one stream;
    ``keepalive_s``: how long without audio before the documented keep-alive goes (if any);
    ``price_per_minute`` overrides the streaming price (US dollars per audio minute).
    """

    base_url: str = ""
    max_streams: int | None = None
    open_timeout_s: float = OPEN_TIMEOUT_S
    silence_timeout_s: float = SILENCE_TIMEOUT_S
    max_reconnects: int = MAX_RECONNECTS
    keepalive_s: float = KEEPALIVE_S
    price_per_minute: float | None = None

    name: ClassVar[str] = ""
    KEY_VARIABLE: ClassVar[str] = ""
    DEFAULT_BASE_URL: ClassVar[str] = ""
    PATH: ClassVar[str] = ""
    DEFAULT_MAX_STREAMS: ClassVar[int | None] = None
    RULES: ClassVar[Mapping[int | str, Rule]] = {}
    UNKNOWN_CLOSE: ClassVar[Rule] = TransientProviderError
    KEEPALIVE: ClassVar[str | None] = None
    """The documented keep-alive text frame, sent when no audio went for ``keepalive_s``."""
    ANSWERS_WHILE_SENDING: ClassVar[bool] = False
    """Whether the docs say the server answers every chunk (then silence mid-stream is a fault;
    otherwise only silence after the end message is)."""
    OUTPUT_NEUTRAL: ClassVar[frozenset[str]] = frozenset(
        {"base_url", "max_streams", "open_timeout_s", "silence_timeout_s", "max_reconnects"}
        | {"keepalive_s", "price_per_minute"}
    )

    def __post_init__(self) -> None:
        if self.base_url and not is_url(self.base_url, ("ws", "wss", "http", "https")):
            raise ValueError(
                f"{self.name}: base_url={self.base_url!r} is not a ws(s) or http(s) URL; give one such as "
                f"{self.DEFAULT_BASE_URL!r} (or leave base_url out for that default)"
            )
        if self.max_streams is not None and (
            not isinstance(self.max_streams, int) or self.max_streams < 1
        ):
            raise ValueError(f"{self.name}: max_streams={self.max_streams!r} must be >= 1")
        for option in ("open_timeout_s", "silence_timeout_s", "keepalive_s"):
            if not getattr(self, option) > 0:
                raise ValueError(f"{self.name}: {option}={getattr(self, option)!r} must be > 0")
        if not isinstance(self.max_reconnects, int) or self.max_reconnects < 0:
            raise ValueError(f"{self.name}: max_reconnects={self.max_reconnects!r} must be >= 0")

    # ------------------------------------------------------------------ what to send

    @property
    def endpoint(self) -> str:
        url = (self.base_url or self.DEFAULT_BASE_URL).rstrip("/")
        return "ws" + url[4:] if url.startswith("http") else url

    def key(self) -> str:
        return api_key(self.KEY_VARIABLE, self.name)

    def auth_headers(self, key: str) -> Mapping[str, str]:
        """The documented auth header(s) of the upgrade request."""
        raise NotImplementedError

    def query(self, sample_rate: int, language: str | None) -> Mapping[str, str]:
        """The query parameters of the upgrade request."""
        return {}

    def url(self, sample_rate: int, language: str | None) -> str:
        return with_query(self.endpoint + self.PATH, self.query(sample_rate, language))

    def opening(self, sample_rate: int, language: str | None) -> list[str]:
        """Text frames sent right after the connection opens (OpenAI's ``session.update``)."""
        return []

    def encoder(self, sample_rate: int) -> Encoder:
        """A per-stream encoder of PCM16 frames into wire messages."""
        return Encoder(sample_rate)

    def end_messages(self) -> list[str]:
        """The documented end of a stream: what is sent after the last audio."""
        raise NotImplementedError

    def parser(self, offset_s: float) -> Parser:
        """A parser of one connection's messages; provider times are shifted by `offset_s`
        (the audio sent on earlier connections: every provider's times restart at 0)."""
        raise NotImplementedError

    def rule(self, loss: int | str, detail: str = "") -> Rule:
        """What to do when a connection ends early with `loss` (`detail`: the close reason
        and the provider's last in-band error)."""
        return self.RULES.get(loss, self.UNKNOWN_CLOSE)

    def cache_identity(self) -> Mapping[str, Any]:
        """Every option that changes the output (never the key or the limits), and the
        endpoint (a loopback server's answers are not the vendor's)."""
        fields = {k: v for k, v in vars(self).items() if k not in self.OUTPUT_NEUTRAL}
        where = safe_url(self.endpoint + self.PATH)
        return {"engine": self.name, "mode": "streaming", "endpoint": where, **fields}

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the provider's ``max_streams`` slots while streaming (shared by every
        event loop in the process, so threads running their own loops share the limit)."""
        limit = self.max_streams or self.DEFAULT_MAX_STREAMS
        if limit is None:
            yield
            return
        semaphore = _semaphore(self.name, self.endpoint, limit)
        while not semaphore.acquire(blocking=False):
            await asyncio.sleep(SLOT_POLL_S)
        try:
            yield
        finally:
            semaphore.release()


Wire = tuple[str | bytes, float]
"""A message to send and the seconds of audio it carries."""


class Encoder:
    """PCM16 frames → wire messages: raw binary frames, at least ``min_s`` of audio each
    (AssemblyAI refuses chunks under 50 ms); subclasses change the form (OpenAI: base64 JSON)."""

    def __init__(self, sample_rate: int, min_s: float = 0.0) -> None:
        self.sample_rate = sample_rate
        self.min_bytes = int(round(min_s * sample_rate)) * 2
        self.held = b""

    def seconds(self, pcm: bytes) -> float:
        return len(pcm) / 2 / self.sample_rate

    def wire(self, pcm: bytes) -> Wire:
        return pcm, self.seconds(pcm)

    def encode(self, frame: bytes) -> list[Wire]:
        self.held += frame
        if len(self.held) < self.min_bytes:
            return []
        pcm, self.held = self.held, b""
        return [self.wire(pcm)]

    def flush(self) -> list[Wire]:
        """What is still held at the end of the audio (sent before the end message), padded
        with silence to ``min_s`` (the padding is not counted as audio sent)."""
        pcm, self.held = self.held, b""
        if not pcm:
            return []
        wire, seconds = self.wire(pcm.ljust(self.min_bytes, b"\0"))
        return [(wire, self.seconds(pcm))]


class Parser:
    """Turns one connection's messages into stream events; knows when the stream is over.

    ``done`` is set by the message that ends the stream (``is_last``, ``Metadata``,
    ``Termination``, the last ``.completed``); ``error`` keeps the provider's last in-band error
    text (it names the cause when the close follows); ``ended()`` is called once the end
    message has gone out.
    """

    def __init__(self, offset_s: float) -> None:
        self.offset_s = offset_s
        self.done = False
        self.error: str | None = None
        self.session_id: str | None = None
        self.sent_end = False

    def feed(self, doc: Any, at_s: float) -> list[StreamEvent]:
        raise NotImplementedError

    def ended(self) -> None:
        self.sent_end = True


_semaphores: dict[tuple[str, str, int], threading.BoundedSemaphore] = {}
_lock = threading.Lock()


def _semaphore(name: str, endpoint: str, limit: int) -> threading.BoundedSemaphore:
    with _lock:
        return _semaphores.setdefault((name, endpoint, limit), threading.BoundedSemaphore(limit))


def is_ws_url(value: Any) -> bool:
    """Whether `value` is an absolute ws(s) URL with a host (and a valid port, if any).

    >>> is_ws_url("ws://127.0.0.1:8080"), is_ws_url("https://api.deepgram.com")
    (True, False)
    """
    return is_url(value, ("ws", "wss"))


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added to its query string (those already there are kept)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


SECRET_PARAMS = frozenset({"token", "key", "api_key", "access_token", "authorization"})


def safe_url(url: str) -> str:
    """`url` as it may be shown: query values that may be credentials (``token=``...) masked,
    and every configured key scrubbed.

    >>> safe_url("wss://h/v3/ws?sample_rate=16000&token=abc")
    'wss://h/v3/ws?sample_rate=16000&token=***'
    """
    parts = urlsplit(url)
    query = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query)]
    return scrub(urlunsplit(parts._replace(query=urlencode(query, safe="*"))))


def flag(value: bool) -> str:
    return "true" if value else "false"
