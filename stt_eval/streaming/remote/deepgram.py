"""Deepgram live transcription over a WebSocket (STREAMING_CONTRACTS §2).

``wss://api.deepgram.com/v1/listen`` with ``Authorization: Token KEY``; options in the query
string (``encoding=linear16``, ``sample_rate``, ``channels=1`` for raw PCM; ``interim_results=true``
for partials); raw binary audio frames. A ``Results`` message with ``is_final: false`` is a
partial, ``is_final: true`` a final (``speech_final`` marks an endpoint, not the text to keep:
the transcript is every final joined). Keep-alive: ``{"type": "KeepAlive"}`` as a text frame
when no audio went for 4 s (the docs: every 3–5 s; 10 s without audio or KeepAlive closes with
NET-0001). The end: ``{"type": "CloseStream"}``; the server sends the remaining Results, then a
``Metadata`` message, then closes.

Reconnect or fail — Deepgram's guide "Recovering from connection errors and timeouts when live
streaming audio" tells clients to reconnect, continue the audio and shift the new connection's
timestamps (they restart at 0), which is what this client does:

============  ==========================================================================
1008          fail, input rejected: DATA-0000, the payload cannot be decoded as audio (the
              same audio fails again)
1011          reconnect: NET-0000 (no answer in time) / NET-0001 (no audio in time)
3007          fail, transient: not a Deepgram code (an unknown close)
dropped       reconnect (the recovering guide)
silent        reconnect: interim results come about every second, so silence is a fault
============  ==========================================================================

Audio may go at most 1.25x real time (the same guide); a reconnect's backlog goes at once, so
after a long outage the catch-up may be refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stt_eval.providers.errors import InputRejected
from stt_eval.streaming.events import StreamEvent
from stt_eval.streaming.remote.base import DROPPED, RECONNECT, SILENT, Parser, flag
from stt_eval.streaming.remote.session import WebSocketStream
from stt_eval.streaming.remote.words import seconds_words

CONCURRENCY = 50
"""Pay-as-you-go/Growth: "Up to 50 concurrent requests" for streaming Nova (api-rate-limits.mdx)."""


@dataclass(frozen=True)
class DeepgramStream(WebSocketStream):
    """Deepgram ``/v1/listen`` live. ``model`` (default ``nova-3``), ``language`` (default: the
    sample's), ``punctuate``/``smart_format`` as in batch, ``endpointing`` in ms (None: Deepgram's
    default, 10 ms)."""

    model: str = "nova-3"
    language: str | None = None
    punctuate: bool = True
    smart_format: bool = True
    endpointing: int | None = None

    name: ClassVar[str] = "deepgram"
    KEY_VARIABLE: ClassVar[str] = "DEEPGRAM_API_KEY"
    DEFAULT_BASE_URL: ClassVar[str] = "wss://api.deepgram.com"
    PATH: ClassVar[str] = "/v1/listen"
    DEFAULT_MAX_STREAMS: ClassVar[int | None] = CONCURRENCY
    RULES: ClassVar[Mapping[int | str, Any]] = {
        1008: InputRejected,
        1011: RECONNECT,
        DROPPED: RECONNECT,
        SILENT: RECONNECT,
    }
    KEEPALIVE: ClassVar[str | None] = '{"type": "KeepAlive"}'
    ANSWERS_WHILE_SENDING: ClassVar[bool] = True

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": f"Token {key}"}

    def query(self, sample_rate: int, language: str | None) -> Mapping[str, str]:
        params = {
            "model": self.model,
            "encoding": "linear16",
            "sample_rate": str(sample_rate),
            "channels": "1",
            "interim_results": "true",
            "punctuate": flag(self.punctuate),
            "smart_format": flag(self.smart_format),
        }
        if self.language or language:
            params["language"] = self.language or str(language)
        if self.endpointing is not None:
            params["endpointing"] = str(self.endpointing)
        return params

    def end_messages(self) -> list[str]:
        return ['{"type": "CloseStream"}']

    def parser(self, offset_s: float) -> Parser:
        return _DeepgramParser(offset_s)


class _DeepgramParser(Parser):
    def feed(self, doc: Any, at_s: float) -> list[StreamEvent]:
        if not isinstance(doc, dict):
            return []
        kind = doc.get("type")
        if kind == "Metadata":
            self.session_id = self.session_id or doc.get("request_id")
            self.done = True
            return []
        if kind != "Results":
            return []  # SpeechStarted, UtteranceEnd
        metadata = doc.get("metadata")
        if isinstance(metadata, dict) and not self.session_id:
            self.session_id = metadata.get("request_id")
        channel = doc.get("channel")
        alternatives = channel.get("alternatives") if isinstance(channel, dict) else None
        alt = alternatives[0] if isinstance(alternatives, list) and alternatives else {}
        text = alt.get("transcript") if isinstance(alt, dict) else None
        text = text.strip() if isinstance(text, str) else ""
        final = doc.get("is_final") is True
        if not final and not text:
            return []
        raw = alt.get("words") if isinstance(alt, dict) else None
        key = (
            "punctuated_word"
            if raw and isinstance(raw[0], dict) and "punctuated_word" in raw[0]
            else "word"
        )
        words = seconds_words(raw, key, self.offset_s, scale=1.0)
        start, duration = doc.get("start"), doc.get("duration")
        span = isinstance(start, (int, float)) and isinstance(duration, (int, float))
        return [
            StreamEvent(
                "final" if final else "partial",
                at_s,
                text,
                words,
                start + self.offset_s if span else None,
                start + duration + self.offset_s if span else None,
            )
        ]
