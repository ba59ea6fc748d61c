"""The provider protocol: what every engine, local or remote, implements.

A provider maps one request and one response: ``transcribe(audio, options) -> Transcript``. It
never sleeps or retries; the runner decides what to do with the typed error it raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from stt_eval.audio.load import AudioClip
from stt_eval.types import Transcript


@dataclass(frozen=True)
class Engine:
    """What made a transcript: engine (provider) name, model, and engine or API version."""

    name: str
    model: str | None
    version: str


def engine_of(provider: Provider) -> Engine:
    """The engine, model and version a provider records in its cache identity."""
    identity = provider.cache_identity()
    model = identity.get("model") or identity.get("speech_model")
    return Engine(
        str(identity.get("engine", provider.name)),
        None if model is None else str(model),
        str(identity.get("version", "")),
    )


@runtime_checkable
class Provider(Protocol):
    """Turns a normalized clip (mono, 16 kHz, 16-bit) into a Transcript."""

    name: str

    def transcribe(
        self, audio: AudioClip, options: Mapping[str, Any] | None = None
    ) -> Transcript: ...

    def load(self) -> None:
        """Load models or open sessions up front (timings then count only transcription)."""
        ...

    def cache_identity(self) -> Mapping[str, Any]:
        """Everything about this provider that changes its output (model, version, options)."""
        ...
