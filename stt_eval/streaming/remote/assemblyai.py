"""AssemblyAI Universal-Streaming v3 over a WebSocket (STREAMING_CONTRACTS §3).

``wss://streaming.assemblyai.com/v3/ws?speech_model=..&sample_rate=..&encoding=pcm_s16le`` with
the bare key as ``Authorization: KEY``; ``speech_model`` is always sent (the spec repo names a
default, the live docs say there is none). Raw binary audio of 50–1000 ms per message, at most
real time: 20 ms frames are gathered into 50 ms chunks and the last one padded with silence.
A ``Turn`` with ``end_of_turn: false`` is a partial (its text: every word so far, finalized or
not); ``end_of_turn: true`` is the turn's final (``transcript``). Word times are milliseconds.
No keep-alive is sent: ``KeepAlive`` only matters with ``inactivity_timeout``, which is not set.
The end: ``{"type": "Terminate"}``, then wait for ``Termination``. An ``Error`` frame precedes
an error close; its text names the cause.

Reconnect or fail (common-errors.mdx; concurrency.mdx disagrees on the limit's code):

============  ==========================================================================
1008          fail: auth error ("Unauthorized Connection"), or transient when the reason
              says "Too many concurrent sessions" (concurrency.mdx uses 1008 for it)
1011, 3005    reconnect: a server error; a new session continues with the unsent audio
3007          fail, input rejected: audio faster than real time or a chunk outside
              50–1000 ms (the same stream fails again)
3008          reconnect: the session's maximum duration (3 h) is over; a new one continues
3009          fail, transient: too many concurrent sessions
dropped       reconnect
silent        reconnect (only after Terminate: Turns come only while there is speech)
============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stt_eval.providers.errors import AuthError, InputRejected, TransientProviderError
from stt_eval.streaming.events import StreamEvent
from stt_eval.streaming.remote.base import (
    DROPPED,
    RECONNECT,
    SILENT,
    Encoder,
    Parser,
    Rule,
    flag,
)
from stt_eval.streaming.remote.session import WebSocketStream
from stt_eval.streaming.remote.words import seconds_words

MIN_CHUNK_S = 0.05
"""The spec's lower bound on one audio message (``sendAudio``: 50–1000 ms)."""


@dataclass(frozen=True)
class AssemblyAIStream(WebSocketStream):
    """AssemblyAI v3 streaming. ``speech_model`` (default ``universal-streaming-english``),
    ``format_turns`` (punctuated, cased finals)."""

    speech_model: str = "universal-streaming-english"
    format_turns: bool = True

    name: ClassVar[str] = "assemblyai"
    KEY_VARIABLE: ClassVar[str] = "ASSEMBLYAI_API_KEY"
    DEFAULT_BASE_URL: ClassVar[str] = "wss://streaming.assemblyai.com"
    PATH: ClassVar[str] = "/v3/ws"
    RULES: ClassVar[Mapping[int | str, Rule]] = {
        1008: AuthError,
        1011: RECONNECT,
        3005: RECONNECT,
        3007: InputRejected,
        3008: RECONNECT,
        3009: TransientProviderError,
        DROPPED: RECONNECT,
        SILENT: RECONNECT,
    }

    def rule(self, loss: int | str, detail: str = "") -> Rule:
        if loss == 1008 and "concurrent" in detail.lower():
            return TransientProviderError
        return super().rule(loss, detail)

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": key}

    def query(self, sample_rate: int, language: str | None) -> Mapping[str, str]:
        return {
            "speech_model": self.speech_model,
            "sample_rate": str(sample_rate),
            "encoding": "pcm_s16le",
            "format_turns": flag(self.format_turns),
        }

    def encoder(self, sample_rate: int) -> Encoder:
        return Encoder(sample_rate, min_s=MIN_CHUNK_S)

    def end_messages(self) -> list[str]:
        return ['{"type": "Terminate"}']

    def parser(self, offset_s: float) -> Parser:
        return _TurnParser(offset_s)


class _TurnParser(Parser):
    def feed(self, doc: Any, at_s: float) -> list[StreamEvent]:
        if not isinstance(doc, dict):
            return []
        kind = doc.get("type")
        if kind == "Begin":
            self.session_id = doc.get("id")
        elif kind == "Termination":
            self.done = True
        elif kind == "Error":
            self.error = f"{doc.get('error_code')}: {doc.get('error')}"
        if kind != "Turn":
            return []
        words = seconds_words(doc.get("words"), "text", self.offset_s, scale=0.001)
        if doc.get("end_of_turn") is True:
            text = doc.get("transcript")
            text = text.strip() if isinstance(text, str) else " ".join(w.text for w in words)
            return [StreamEvent("final", at_s, text, words)]
        if not words:
            return []
        return [StreamEvent("partial", at_s, " ".join(w.text for w in words), words)]
