"""What a loopback streaming server needs to know of one provider's contract: the handshake it
accepts, how it refuses, what audio looks like, and the messages a scripted cue becomes; and
the faults a test injects and the record of each connection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stt_eval.testing.live.script import Cue


@dataclass(frozen=True)
class LiveFault:
    """What the next connection suffers: ``slow_first_partial_s`` added to its first partial's
    delay; a close with ``close_code`` (and ``close_reason``) when the audio reaches
    ``close_at_s``; the TCP connection dropped (no close frame) at ``drop_at_s``; nothing more
    sent from ``silent_at_s`` on."""

    slow_first_partial_s: float = 0.0
    close_at_s: float | None = None
    close_code: int = 1011
    close_reason: str = ""
    drop_at_s: float | None = None
    silent_at_s: float | None = None


@dataclass
class Connection:
    """One connection as the server saw it: the query, the headers (auth left out), every text
    message the client sent (parsed), the audio seconds received and the messages per audio
    chunk, and how it ended."""

    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    texts: list[Any] = field(default_factory=list)
    audio_s: float = 0.0
    chunks: int = 0
    closed_with: int | None = None


class Contract:
    """How one provider's messages look. Subclasses fill in the handshake and the messages."""

    PATH = ""
    AUTH_HEADER = "Authorization"

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def authorized(self, headers: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def check_query(self, query: Mapping[str, str]) -> str | None:
        """What is wrong with the upgrade's query (answered 400 before the upgrade), or None."""
        return None

    def unauthorized(self) -> tuple[str, int, str]:
        """``("http", status, body)`` refused before the upgrade, or ``("close", code, reason)``."""
        return ("http", 401, "Unauthorized")

    def over_limit(self) -> tuple[str, int, str]:
        """The answer to a connection over the concurrency limit."""
        return ("close", 1008, "too many concurrent connections")

    def too_fast(self, audio_s: float, wall_s: float) -> tuple[int, str]:
        return (1008, f"audio sent faster than allowed ({audio_s:.2f} s in {wall_s:.2f} s)")

    def bad_chunk(self, seconds: float) -> tuple[int, str] | None:
        return None

    def session(self, conn: Connection) -> Any:
        """Per-connection state of the provider's messages (a new object per connection)."""
        raise NotImplementedError


class Session:
    """One connection's side of the contract: what audio is, what ends the stream, and the
    messages a cue, an error and the end become."""

    closes_after_end = True
    """Whether the server closes the socket after the end's answer (OpenAI: the client does)."""

    def __init__(self, conn: Connection, rate: int) -> None:
        self.conn, self.rate = conn, rate

    def opening(self) -> list[Any]:
        return []

    def audio(self, message: str | bytes) -> bytes | None:
        """The PCM16 a message carries, None for a control message."""
        return message if isinstance(message, bytes) else None

    def is_end(self, doc: Any) -> bool:
        raise NotImplementedError

    def after_end(self, cues: list[Cue]) -> list[Cue]:
        """The cues still to come once the client ended the stream (OpenAI: one item)."""
        return cues

    def answer(self, doc: Any) -> list[Any]:
        """The immediate answer to a control message (OpenAI's ``session.updated``)."""
        return []

    def error(self, code: int, reason: str) -> list[Any]:
        """Messages sent just before an error close (AssemblyAI's ``Error`` frame)."""
        return []

    def messages(self, cue: Cue, start_s: float) -> list[Any]:
        """What a cue becomes; word times relative to the connection's start (`start_s`)."""
        raise NotImplementedError

    def terminal(self) -> list[Any]:
        """The answer to the client's end message, after the last cue."""
        return []


def word_dicts(cue: Cue, start_s: float, text_key: str, scale: float = 1.0) -> list[dict]:
    """A cue's words as provider dicts, times relative to the connection, times `scale`."""
    return [
        {
            text_key: w.text,
            "start": _time((w.start - start_s) * scale, scale),
            "end": _time((w.end - start_s) * scale, scale),
            "confidence": 0.9,
        }
        for w in cue.words
    ]


def _time(value: float, scale: float) -> float | int:
    return int(round(value)) if scale != 1.0 else round(value, 3)
