"""OpenAI realtime transcription over a WebSocket (STREAMING_CONTRACTS §4, the GA interface).

``wss://api.openai.com/v1/realtime?intent=transcription`` (no ``model`` in the URL: that makes a
conversation session) with ``Authorization: Bearer KEY``; the session is set by a
``session.update`` of ``type: "transcription"`` sent on opening. Audio goes as
``{"type": "input_audio_buffer.append", "audio": <base64>}`` of PCM16 at **24 kHz** ("Only a
24kHz sample rate is supported"): frames are resampled here. A ``...transcription.delta`` is a
partial (the item's text so far), ``...transcription.completed`` the item's final. There is no
end-of-stream message: the end is ``input_audio_buffer.commit``, then wait until every committed
item is completed (or failed), then close the socket. No keep-alive is documented; neither are
close codes — the rules below follow what a WebSocket close code means:

============  ==========================================================================
1008          fail, permanent: a policy violation (the same request is refused again)
1011          reconnect: a server error; committed items are transcribed independently
3007          fail, transient: not an OpenAI code (an unknown close)
dropped       reconnect
silent        reconnect (only after the commit: events come only with speech)
============  ==========================================================================
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from stt_eval.providers.errors import PermanentProviderError
from stt_eval.streaming.events import StreamEvent
from stt_eval.streaming.remote.base import (
    DROPPED,
    RECONNECT,
    SILENT,
    Encoder,
    Parser,
    Rule,
    Wire,
)
from stt_eval.streaming.remote.session import WebSocketStream

RATE = 24_000
"""The only PCM rate the realtime API takes (``RealtimeAudioFormats``)."""


@dataclass(frozen=True)
class OpenAIStream(WebSocketStream):
    """OpenAI realtime transcription. ``model`` (default ``gpt-4o-transcribe``), ``language``
    (default: the sample's), ``vad``: ``server_vad`` (the spec's defaults) or None (no turn
    detection: one item, committed at the end)."""

    model: str = "gpt-4o-transcribe"
    language: str | None = None
    vad: str | None = "server_vad"

    name: ClassVar[str] = "openai"
    KEY_VARIABLE: ClassVar[str] = "OPENAI_API_KEY"
    DEFAULT_BASE_URL: ClassVar[str] = "wss://api.openai.com/v1"
    PATH: ClassVar[str] = "/realtime"
    RULES: ClassVar[Mapping[int | str, Rule]] = {
        1008: PermanentProviderError,
        1011: RECONNECT,
        DROPPED: RECONNECT,
        SILENT: RECONNECT,
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.vad not in ("server_vad", "semantic_vad", None):
            raise ValueError(f"openai: vad={self.vad!r} must be server_vad, semantic_vad or None")

    def auth_headers(self, key: str) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def query(self, sample_rate: int, language: str | None) -> Mapping[str, str]:
        return {"intent": "transcription"}

    def opening(self, sample_rate: int, language: str | None) -> list[str]:
        transcription: dict[str, Any] = {"model": self.model}
        if self.language or language:
            transcription["language"] = (self.language or str(language)).split("-")[0].lower()
        turns: dict[str, Any] | None = None
        if self.vad == "server_vad":
            turns = {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 500,
            }
        elif self.vad == "semantic_vad":
            turns = {"type": "semantic_vad"}
        audio_in = {
            "format": {"type": "audio/pcm", "rate": RATE},
            "transcription": transcription,
            "turn_detection": turns,
        }
        session = {"type": "transcription", "audio": {"input": audio_in}}
        return [json.dumps({"type": "session.update", "session": session})]

    def encoder(self, sample_rate: int) -> Encoder:
        return _Append(sample_rate)

    def end_messages(self) -> list[str]:
        return ['{"type": "input_audio_buffer.commit"}']

    def parser(self, offset_s: float) -> Parser:
        return _ItemParser(offset_s)


class _Append(Encoder):
    """PCM16 at any rate → ``input_audio_buffer.append`` events of PCM16 at 24 kHz, resampled
    by linear interpolation that carries across frames (no seam at frame boundaries)."""

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate)
        self.next_out = 0  # index of the next output sample
        self.base = 0  # input index of tail[0]
        self.tail = np.zeros(0, dtype=np.float64)

    def wire(self, pcm: bytes) -> Wire:
        seconds = self.seconds(pcm)
        audio = base64.b64encode(self.resample(pcm)).decode("ascii")
        return json.dumps({"type": "input_audio_buffer.append", "audio": audio}), seconds

    def resample(self, pcm: bytes) -> bytes:
        if self.sample_rate == RATE:
            return pcm
        buf = np.concatenate([self.tail, np.frombuffer(pcm, "<i2").astype(np.float64)])
        last = self.base + len(buf) - 1  # the last input index known
        stop = (last * RATE) // self.sample_rate + 1  # outputs at input positions <= last
        j = np.arange(self.next_out, stop)
        out = np.interp(j * self.sample_rate / RATE, self.base + np.arange(len(buf)), buf)
        self.next_out = max(self.next_out, stop)
        self.tail, self.base = buf[-1:], last
        return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


class _ItemParser(Parser):
    def __init__(self, offset_s: float) -> None:
        super().__init__(offset_s)
        self.text: dict[str, str] = {}
        self.pending: set[str] = set()
        self.answered = False  # the end's commit was answered (committed, or an error)

    def feed(self, doc: Any, at_s: float) -> list[StreamEvent]:
        if not isinstance(doc, dict):
            return []
        kind, item = doc.get("type"), str(doc.get("item_id"))
        events: list[StreamEvent] = []
        if kind in ("session.created", "session.updated"):
            session = doc.get("session")
            if isinstance(session, dict) and not self.session_id:
                self.session_id = session.get("id")
        elif kind == "input_audio_buffer.committed":
            self.pending.add(item)
            self.answered = self.answered or self.sent_end
        elif kind == "error":
            error = doc.get("error")
            self.error = str(error.get("message") if isinstance(error, dict) else error)
            self.answered = self.answered or self.sent_end
        elif kind == "conversation.item.input_audio_transcription.delta":
            delta = doc.get("delta")
            self.text[item] = self.text.get(item, "") + (delta if isinstance(delta, str) else "")
            if self.text[item].strip():
                events.append(StreamEvent("partial", at_s, self.text[item].strip()))
        elif kind == "conversation.item.input_audio_transcription.completed":
            self.pending.discard(item)
            text = doc.get("transcript")
            events.append(StreamEvent("final", at_s, text.strip() if isinstance(text, str) else ""))
        elif kind == "conversation.item.input_audio_transcription.failed":
            self.pending.discard(item)
            error = doc.get("error")
            self.error = str(error.get("message") if isinstance(error, dict) else error)
        self.done = self.answered and not self.pending
        return events
