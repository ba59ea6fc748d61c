"""A loopback OpenAI realtime transcription server (STREAMING_CONTRACTS §4, the GA interface).

``/v1/realtime?intent=transcription`` (a ``model`` in the URL would open a conversation session:
HTTP 400 here, so the mistake shows); ``Authorization: Bearer KEY`` or HTTP 401. On opening
``session.created``; a ``session.update`` must be of ``type: "transcription"`` with input format
``{"type": "audio/pcm", "rate": 24000}`` (else an ``error`` event, as the API answers a bad
update), answered ``session.updated``. Audio: ``input_audio_buffer.append`` events of base64
PCM16 at 24 kHz. A script segment is one item: ``speech_started`` and ``delta`` events for its
partials, then ``speech_stopped``, ``committed`` and ``...transcription.completed`` for its
final. (The real API transcribes a turn after it is committed, so its deltas follow the commit;
here they follow the script's timing.) ``input_audio_buffer.commit`` at the end: the audio since
the last item becomes one more (the finals still to come are one item), or the documented error
when there is none. The client closes.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from typing import Any

from stt_eval.testing.live.contract import Connection, Contract, Session
from stt_eval.testing.live.script import Cue, Script
from stt_eval.testing.live.server import LiveServer

RATE = 24_000


class OpenAIContract(Contract):
    PATH = "/v1/realtime"

    def authorized(self, headers: Mapping[str, str]) -> bool:
        return headers.get("Authorization") == f"Bearer {self.api_key}"

    def check_query(self, query: Mapping[str, str]) -> str | None:
        if "model" in query:
            return "a model in the URL opens a conversation session; use intent=transcription"
        if query.get("intent") != "transcription":
            return "intent=transcription is required for a transcription session"
        return None

    def over_limit(self) -> tuple[str, int, str]:
        return ("http", 429, '{"error": {"message": "Too many concurrent sessions"}}')

    def session(self, conn: Connection) -> Session:
        return _RealtimeSession(conn, RATE)


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": f"event_{uuid.uuid4().hex[:12]}", **fields}


class _RealtimeSession(Session):
    closes_after_end = False

    def __init__(self, conn: Connection, rate: int) -> None:
        super().__init__(conn, rate)
        self.id = f"sess_{uuid.uuid4().hex[:12]}"
        self.ids: dict[float, str] = {}  # item of each segment (by its first word's start)
        self.said: dict[str, str] = {}  # each item's text so far
        self.last_item: str | None = None
        self.uncommitted_s = 0.0

    def opening(self) -> list[Any]:
        return [_event("session.created", session={"id": self.id, "type": "transcription"})]

    def audio(self, message: str | bytes) -> bytes | None:
        if isinstance(message, bytes):
            return None  # binary frames are not part of this contract
        if '"input_audio_buffer.append"' not in message:
            return None
        pcm = base64.b64decode(json.loads(message)["audio"])
        self.uncommitted_s += len(pcm) / 2 / RATE
        return pcm

    def is_end(self, doc: Any) -> bool:
        return isinstance(doc, dict) and doc.get("type") == "input_audio_buffer.commit"

    def answer(self, doc: Any) -> list[Any]:
        if not isinstance(doc, dict) or doc.get("type") != "session.update":
            return []
        session = doc.get("session") or {}
        fmt = ((session.get("audio") or {}).get("input") or {}).get("format")
        if session.get("type") == "transcription" and fmt == {"type": "audio/pcm", "rate": RATE}:
            return [_event("session.updated", session={"id": self.id, **session})]
        error = {
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": "a transcription session takes audio/pcm at 24000 Hz",
            "param": "session.audio.input.format",
        }
        return [_event("error", error=error)]

    def after_end(self, cues: list[Cue]) -> list[Cue]:
        """The commit takes the whole buffer as one item: the finals still to come are one."""
        finals = [c for c in cues if c.kind == "final"]
        if len(finals) < 2:
            return cues
        merged = Cue("final", finals[-1].due_s, tuple(w for c in finals for w in c.words))
        return [c for c in cues if c.kind == "partial" and c.due_s < merged.due_s] + [merged]

    def messages(self, cue: Cue, start_s: float) -> list[Any]:
        out: list[Any] = []
        key = cue.words[0].start  # a segment (one item) is known by its first word
        if key not in self.ids:
            self.ids[key] = f"item_{len(self.ids):03d}"
            begin = int(round((key - start_s) * 1000))
            speech = "input_audio_buffer.speech_started"
            out.append(_event(speech, audio_start_ms=begin, item_id=self.ids[key]))
        item = self.ids[key]
        said = self.said.get(item, "")
        if cue.kind == "partial":
            self.said[item] = cue.text
            delta = cue.text[len(said) :] if cue.text.startswith(said) else cue.text
            kind = "conversation.item.input_audio_transcription.delta"
            return out + [_event(kind, item_id=item, content_index=0, delta=delta)]
        ms = int(round((cue.words[-1].end - start_s) * 1000))
        previous, self.last_item, self.uncommitted_s = self.last_item, item, 0.0
        return out + [
            _event("input_audio_buffer.speech_stopped", audio_end_ms=ms, item_id=item),
            _event("input_audio_buffer.committed", item_id=item, previous_item_id=previous),
            _completed(item, cue.text),
        ]

    def terminal(self) -> list[Any]:
        if self.uncommitted_s <= 0:
            error = {
                "type": "invalid_request_error",
                "code": "input_audio_buffer_commit_empty",
                "message": "Error committing input audio buffer: buffer too small.",
            }
            return [_event("error", error=error)]
        item = f"item_{len(self.ids):03d}"
        self.ids[float("inf")] = item
        return [
            _event("input_audio_buffer.committed", item_id=item, previous_item_id=None),
            _completed(item, ""),
        ]


def _completed(item: str, text: str) -> dict[str, Any]:
    return _event(
        "conversation.item.input_audio_transcription.completed",
        item_id=item,
        content_index=0,
        transcript=text,
        usage={"type": "duration", "seconds": 0},
    )


def openai_live_server(script: Script, *, api_key: str = "test-key", **limits: Any) -> LiveServer:
    """A loopback OpenAI realtime transcription server replaying `script` (OpenAI documents no
    rate limit on audio)."""
    return LiveServer(OpenAIContract(api_key), script, **limits)
