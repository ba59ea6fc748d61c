"""A loopback AssemblyAI Universal-Streaming v3 server (STREAMING_CONTRACTS §3).

``/v3/ws`` with the bare key as ``Authorization`` (a missing or wrong key: an ``Error`` frame and
close 1008, "Unauthorized Connection"); ``speech_model`` required (the live docs: no default),
``encoding`` ``pcm_s16le``/``pcm_mulaw``, ``sample_rate`` a number, ``format_turns`` a boolean —
else HTTP 400 before the upgrade. ``Begin`` on opening; binary audio of 50–1000 ms per message at
most real time (else ``Error`` + close 3007, the documented texts); ``Turn`` messages
(``turn_order``, ``end_of_turn``, ``transcript`` of the finalized words, ``words`` in
**milliseconds** with ``word_is_final``); ``Terminate`` → ``Termination`` and close 1000. Over
the concurrency limit: ``Error`` + close 3009 (common-errors.mdx and the SDK; concurrency.mdx
says 1008).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from stt_eval.testing.live.contract import Connection, Contract, Session, word_dicts
from stt_eval.testing.live.script import Cue, Script
from stt_eval.testing.live.server import LiveServer

MODELS = frozenset(
    {"universal-streaming-english", "universal-streaming-multilingual", "whisper-rt", "u3-rt-pro"}
)
KNOWN = frozenset(
    "speech_model sample_rate encoding format_turns end_of_turn_confidence_threshold "
    "min_turn_silence max_turn_silence vad_threshold inactivity_timeout keyterms_prompt "
    "language_detection speaker_labels max_speakers filter_profanity token".split()
)
MAX_RATE = 1.0
"""Real time: faster audio is closed with 3007 (common-errors.mdx)."""


class AssemblyAIContract(Contract):
    PATH = "/v3/ws"

    def authorized(self, headers: Mapping[str, str]) -> bool:
        return headers.get("Authorization") == self.api_key

    def unauthorized(self) -> tuple[str, int, str]:
        return ("close", 1008, "Unauthorized Connection: Missing Authorization header")

    def over_limit(self) -> tuple[str, int, str]:
        return ("close", 3009, "Unauthorized Connection: Too many concurrent sessions")

    def check_query(self, query: Mapping[str, str]) -> str | None:
        unknown = sorted(set(query) - KNOWN)
        if unknown:
            return f"unknown query parameter(s) {unknown}"
        if query.get("speech_model") not in MODELS:
            return f"speech_model={query.get('speech_model')!r}: required, one of {sorted(MODELS)}"
        if query.get("encoding", "pcm_s16le") != "pcm_s16le":
            return "this loopback decodes encoding=pcm_s16le only"
        if not query.get("sample_rate", "16000").isdigit():
            return f"sample_rate={query.get('sample_rate')!r} is not a number"
        if query.get("format_turns", "false") not in ("true", "false"):
            return "format_turns must be true or false"
        return None

    def too_fast(self, audio_s: float, wall_s: float) -> tuple[int, str]:
        return (
            3007,
            f"Audio Transmission Rate Exceeded: Received {audio_s:.2f} sec. audio in "
            f"{wall_s:.2f} sec",
        )

    def bad_chunk(self, seconds: float) -> tuple[int, str] | None:
        if 0.05 - 1e-9 <= seconds <= 1.0 + 1e-9:
            return None
        return (
            3007,
            f"Input duration violation: {seconds * 1000:.0f} ms. Expected between 50 and 1000 ms",
        )

    def session(self, conn: Connection) -> Session:
        return _TurnSession(conn, int(conn.query.get("sample_rate", "16000")))


class _TurnSession(Session):
    def __init__(self, conn: Connection, rate: int) -> None:
        super().__init__(conn, rate)
        self.turn = 0
        self.opened = time.monotonic()

    def opening(self) -> list[Any]:
        return [{"type": "Begin", "id": str(uuid.uuid4()), "expires_at": int(time.time()) + 10800}]

    def is_end(self, doc: Any) -> bool:
        return isinstance(doc, dict) and doc.get("type") == "Terminate"

    def error(self, code: int, reason: str) -> list[Any]:
        return [{"type": "Error", "error_code": code, "error": reason}]

    def messages(self, cue: Cue, start_s: float) -> list[Any]:
        words = word_dicts(cue, start_s, "text", scale=1000.0)
        final = cue.kind == "final"
        for i, w in enumerate(words):
            w["word_is_final"] = final or i < len(words) - 1
        done = " ".join(w["text"] for w in words if w["word_is_final"])
        message = {
            "type": "Turn",
            "turn_order": self.turn,
            "turn_is_formatted": self.conn.query.get("format_turns") == "true",
            "end_of_turn": final,
            "transcript": done,
            "end_of_turn_confidence": 0.9 if final else 0.1,
            "words": words,
            "utterance": done if final else "",
        }
        if final:
            self.turn += 1
        return [message]

    def terminal(self) -> list[Any]:
        return [
            {
                "type": "Termination",
                "audio_duration_seconds": int(self.conn.audio_s),
                "session_duration_seconds": int(time.monotonic() - self.opened),
            }
        ]


def assemblyai_live_server(
    script: Script, *, api_key: str = "test-key", max_rate: float | None = MAX_RATE, **limits: Any
) -> LiveServer:
    """A loopback AssemblyAI v3 server replaying `script`; audio over `max_rate` x real time is
    closed 3007 (None: no limit, for tests at 10x)."""
    return LiveServer(AssemblyAIContract(api_key), script, max_rate=max_rate, **limits)
