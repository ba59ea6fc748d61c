"""Smallest.ai Pulse live speech-to-text over a WebSocket (STREAMING_CONTRACTS §1).

``wss://api.smallest.ai/waves/v1/stt/live?model=pulse&language=..`` (the unified endpoint; both
``model`` and ``language`` are required), ``Authorization: Bearer KEY`` on the upgrade, raw
linear16 binary frames, options in the query string with ``true``/``false`` booleans
(``word_timestamps`` sent explicitly: the legacy and unified endpoints' defaults differ). A
message with ``is_final: false`` is a partial, ``is_final: true`` a final (the segment will not
be revised); the text is ``transcript``, else ``transcription`` (the unified DTO sends both, its
examples only the latter). The end: ``{"type": "close_stream"}``, then wait for ``is_last: true``.
No keep-alive message is documented. Errors: any of ``type == "error"``, ``status == "error"`` or
an ``error`` key (three shapes are documented or used).

Reconnect or fail (Pulse documents only 1008, "org has too many open WS sessions"):

============  ==========================================================================
1008          fail, transient: the concurrency limit; a new connection would hit it again
              now, a later re-run may not
1011          reconnect: a server error; Pulse keeps no session state (a session's text is
              the concatenation of its finals), so a new connection continues the text
3007          fail, transient: not a Pulse code (an unknown close)
dropped       reconnect, as 1011
silent        reconnect: Pulse answers every chunk with a partial, so silence is a fault
============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from stt_eval.providers.errors import TransientProviderError
from stt_eval.streaming.events import StreamEvent
from stt_eval.streaming.remote.base import DROPPED, RECONNECT, SILENT, Parser, flag
from stt_eval.streaming.remote.session import WebSocketStream
from stt_eval.streaming.remote.words import seconds_words

DEFAULT_LANGUAGE = "en"
CONCURRENCY = 100
"""Standard plan: "100 concurrent WebSocket sessions" (changelog 2026-05-28)."""


@dataclass(frozen=True)
class PulseStream(WebSocketStream):
    """Pulse live STT. ``language``: a Pulse code (default: the sample's, else ``en``);
    ``word_timestamps`` asks for ``words[]`` on finals; ``eou_timeout_ms`` and ``endpointing``
    are Pulse's end-of-utterance knobs, sent only when set."""

    model: str = "pulse"
    language: str | None = None
    word_timestamps: bool = True
    eou_timeout_ms: int | None = None
    endpointing: bool | None = None

    name: ClassVar[str] = "pulse"
    KEY_VARIABLE: ClassVar[str] = "SMALLEST_API_KEY"
    DEFAULT_BASE_URL: ClassVar[str] = "wss://api.smallest.ai"
    PATH: ClassVar[str] = "/waves/v1/stt/live"
    DEFAULT_MAX_STREAMS: ClassVar[int | None] = CONCURRENCY
    RULES: ClassVar[Mapping[int | str, Any]] = {
        1008: TransientProviderError,
        1011: RECONNECT,
        DROPPED: RECONNECT,
        SILENT: RECONNECT,
    }
    ANSWERS_WHILE_SENDING: ClassVar[bool] = True

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def query(self, sample_rate: int, language: str | None) -> Mapping[str, str]:
        params = {
            "model": self.model,
            "language": self.language or (language or DEFAULT_LANGUAGE).split("-")[0].lower(),
            "encoding": "linear16",
            "sample_rate": str(sample_rate),
            "word_timestamps": flag(self.word_timestamps),
        }
        if self.eou_timeout_ms is not None:
            params["eou_timeout_ms"] = str(self.eou_timeout_ms)
        if self.endpointing is not None:
            params["endpointing"] = flag(self.endpointing)
        return params

    def end_messages(self) -> list[str]:
        return ['{"type": "close_stream"}']

    def parser(self, offset_s: float) -> Parser:
        return _PulseParser(offset_s)


class _PulseParser(Parser):
    def feed(self, doc: Any, at_s: float) -> list[StreamEvent]:
        if not isinstance(doc, dict):
            return []
        if doc.get("type") == "error" or doc.get("status") == "error" or "error" in doc:
            error = doc.get("error")
            text = error.get("message") if isinstance(error, dict) else error
            self.error = str(text or doc.get("message") or "error")
            return []
        if doc.get("type") not in (None, "transcription"):
            return []  # VAD events (speech_started / speech_ended)
        self.session_id = self.session_id or doc.get("session_id")
        text = doc.get("transcript")
        if not isinstance(text, str):
            text = doc.get("transcription") if isinstance(doc.get("transcription"), str) else ""
        words = seconds_words(doc.get("words"), "word", self.offset_s, scale=1.0)
        self.done = doc.get("is_last") is True
        kind = "final" if doc.get("is_final") is True else "partial"
        if kind == "partial" and not text.strip():
            return []
        return [StreamEvent(kind, at_s, text.strip(), words)]
