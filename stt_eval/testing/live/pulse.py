"""A loopback Smallest.ai Pulse live STT server (STREAMING_CONTRACTS §1, the unified endpoint).

``/waves/v1/stt/live``; ``Authorization: Bearer KEY`` or HTTP 401 before the upgrade; ``model``
and ``language`` required and checked (HTTP 400 before the upgrade, as documented for a bad
``model``), booleans ``true``/``false``; raw binary linear16 at ``sample_rate``. Partials and
finals in the unified DTO (``type``, ``status``, ``session_id``, both ``transcript`` and
``transcription``, ``is_final``, ``is_last``, ``words`` in seconds with ``word_timestamps=true``);
``close_stream`` → the terminal ``is_final``/``is_last`` message, then close 1000. Over the
concurrency limit: close 1008 (documented). The contract's values are written here again, not
imported from the client, so a client mistake shows up as a refusal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from stt_eval.testing.live.contract import Connection, Contract, Session, word_dicts
from stt_eval.testing.live.script import Cue, Script
from stt_eval.testing.live.server import LiveServer

LANGUAGES = frozenset(
    "en hi de es ru it fr nl pt zh yue ja ko gu mr or bn ta te kn ml north_indic multi-asian "
    "multi-south-indic".split()
)
RATES = frozenset({"8000", "16000", "22050", "24000", "44100", "48000"})
BOOLEANS = ("word_timestamps", "sentence_timestamps", "diarize", "endpointing", "full_transcript")


class PulseContract(Contract):
    PATH = "/waves/v1/stt/live"

    def authorized(self, headers: Mapping[str, str]) -> bool:
        return headers.get("Authorization") == f"Bearer {self.api_key}"

    def check_query(self, query: Mapping[str, str]) -> str | None:
        if query.get("model") != "pulse":
            return f"model={query.get('model')!r}: the live endpoint serves model=pulse only"
        if query.get("language") not in LANGUAGES:
            return f"language={query.get('language')!r} is required and must be a Pulse code"
        if query.get("encoding", "linear16") != "linear16":
            return "this loopback decodes encoding=linear16 only"
        if query.get("sample_rate", "16000") not in RATES:
            return f"sample_rate={query.get('sample_rate')!r} is not a documented rate"
        for name in BOOLEANS:
            if name in query and query[name] not in ("true", "false"):
                return f"{name}={query[name]!r} is not true or false"
        return None

    def session(self, conn: Connection) -> Session:
        return _PulseSession(conn, int(conn.query.get("sample_rate", "16000")))


class _PulseSession(Session):
    def __init__(self, conn: Connection, rate: int) -> None:
        super().__init__(conn, rate)
        self.id = str(uuid.uuid4())
        self.words = conn.query.get("word_timestamps") == "true"

    def is_end(self, doc: Any) -> bool:
        return isinstance(doc, dict) and doc.get("type") == "close_stream"

    def _message(self, text: str, final: bool, last: bool = False) -> dict[str, Any]:
        return {
            "type": "transcription",
            "status": "success",
            "session_id": self.id,
            "transcript": text,
            "transcription": text,
            "is_final": final,
            "is_last": last,
        }

    def messages(self, cue: Cue, start_s: float) -> list[Any]:
        message = self._message(cue.text, cue.kind == "final")
        if cue.kind == "final":
            message.update(language="en", languages=["en"])
            if self.words:
                message["words"] = word_dicts(cue, start_s, "word")
        return [message]

    def terminal(self) -> list[Any]:
        return [{**self._message("", True, last=True), "language": "en", "languages": ["en"]}]


def pulse_live_server(script: Script, *, api_key: str = "test-key", **limits: Any) -> LiveServer:
    """A loopback Pulse live server replaying `script` (``max_rate``/``max_streams``: limits;
    Pulse documents no rate limit)."""
    return LiveServer(PulseContract(api_key), script, **limits)
