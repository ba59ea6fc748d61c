"""A loopback Deepgram live server (STREAMING_CONTRACTS §2, ``/v1/listen`` over a WebSocket).

``Authorization: Token KEY`` or HTTP 401 before the upgrade; the query parameters of the spec's
list only, ``encoding`` a known one and ``sample_rate`` given with it (raw audio needs both),
booleans ``true``/``false`` — anything else HTTP 400 before the upgrade. Raw binary audio;
``{"type": "KeepAlive"}`` is accepted and answered with nothing. ``Results`` messages in the
documented shape (``type``, ``channel_index``, ``start``, ``duration``, ``is_final``,
``speech_final``, ``from_finalize``, ``channel.alternatives[0]`` with ``transcript``,
``confidence`` and ``words`` in seconds, ``metadata``); partials only with
``interim_results=true``. ``CloseStream`` → the remaining Results, a ``Metadata`` message, close.

Not documented by Deepgram and chosen here: over the concurrency limit the upgrade is refused
with HTTP 429 (Deepgram's rate-limit status); audio faster than 1.25x real time (the documented
maximum) is closed with 1008.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from stt_eval.testing.live.contract import Connection, Contract, Session, word_dicts
from stt_eval.testing.live.script import Cue, Script
from stt_eval.testing.live.server import LiveServer

ENCODINGS = frozenset(
    "linear16 linear32 flac alaw mulaw amr-nb amr-wb opus ogg-opus speex g729".split()
)
BOOLEANS = frozenset(
    "interim_results punctuate smart_format diarize vad_events multichannel numerals "
    "profanity_filter dictation detect_entities mip_opt_out".split()
)
OTHERS = frozenset(
    "model encoding sample_rate channels endpointing utterance_end_ms language keyterm keywords "
    "redact replace search callback tag extra version diarize_model".split()
)
MAX_RATE = 1.25
"""Deepgram: audio may be streamed "at a maximum of 1.25x realtime"."""


class DeepgramContract(Contract):
    PATH = "/v1/listen"

    def authorized(self, headers: Mapping[str, str]) -> bool:
        return headers.get("Authorization") == f"Token {self.api_key}"

    def check_query(self, query: Mapping[str, str]) -> str | None:
        unknown = sorted(set(query) - BOOLEANS - OTHERS)
        if unknown:
            return f"unknown query parameter(s) {unknown}"
        for name in sorted(set(query) & BOOLEANS):
            if query[name] not in ("true", "false"):
                return f"{name}={query[name]!r} is not true or false"
        if query.get("encoding") not in ENCODINGS or not query.get("sample_rate", "").isdigit():
            return "raw audio needs encoding (a known one) and sample_rate"
        if query["encoding"] != "linear16":
            return "this loopback decodes encoding=linear16 only"
        if query.get("channels", "1") != "1":
            return "this loopback takes channels=1 only"
        return None

    def over_limit(self) -> tuple[str, int, str]:
        return ("http", 429, '{"err_code": "TOO_MANY_REQUESTS", "err_msg": "Too many requests"}')

    def too_fast(self, audio_s: float, wall_s: float) -> tuple[int, str]:
        return (
            1008,
            f"audio faster than {MAX_RATE}x real time ({audio_s:.2f} s in {wall_s:.2f} s)",
        )

    def session(self, conn: Connection) -> Session:
        return _DeepgramSession(conn, int(conn.query["sample_rate"]))


class _DeepgramSession(Session):
    def __init__(self, conn: Connection, rate: int) -> None:
        super().__init__(conn, rate)
        self.id = str(uuid.uuid4())
        self.interim = conn.query.get("interim_results") == "true"
        self.punctuated = "true" in (conn.query.get("punctuate"), conn.query.get("smart_format"))
        self.final_end = 0.0  # where the last final's audio ended (connection time)

    def is_end(self, doc: Any) -> bool:
        return isinstance(doc, dict) and doc.get("type") == "CloseStream"

    def messages(self, cue: Cue, start_s: float) -> list[Any]:
        final = cue.kind == "final"
        if not final and not self.interim:
            return []
        words = word_dicts(cue, start_s, "word")
        for w in words:
            if self.punctuated:
                w["punctuated_word"] = w["word"]
            w["word"] = w["word"].lower().strip(".,?!")
        end = cue.words[-1].end - start_s
        start = self.final_end
        if final:
            self.final_end = end
        text = cue.text if self.punctuated else " ".join(w["word"] for w in words)
        return [
            {
                "type": "Results",
                "channel_index": [0, 1],
                "duration": round(end - start, 3),
                "start": round(start, 3),
                "is_final": final,
                "speech_final": final,
                "from_finalize": False,
                "channel": {
                    "alternatives": [{"transcript": text, "confidence": 0.9, "words": words}]
                },
                "metadata": {
                    "request_id": self.id,
                    "model_info": {"name": "loopback", "version": "0", "arch": "loopback"},
                    "model_uuid": self.id,
                },
            }
        ]

    def terminal(self) -> list[Any]:
        created = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        return [
            {
                "type": "Metadata",
                "transaction_key": "deprecated",
                "request_id": self.id,
                "sha256": "0" * 64,
                "created": created,
                "duration": round(self.conn.audio_s, 3),
                "channels": 1,
            }
        ]


def deepgram_live_server(
    script: Script, *, api_key: str = "test-key", max_rate: float | None = MAX_RATE, **limits: Any
) -> LiveServer:
    """A loopback Deepgram live server replaying `script`; audio over `max_rate` x real time is
    refused (None: no limit, for tests at 10x)."""
    return LiveServer(DeepgramContract(api_key), script, max_rate=max_rate, **limits)
