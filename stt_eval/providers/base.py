"""The provider protocol and the typed errors every provider raises.

A provider maps one request and one response: ``transcribe(audio, options) -> Transcript``. It
never sleeps or retries; the runner decides what to do with the typed error it raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from stt_eval.audio import AudioClip
from stt_eval.types import Transcript


class ProviderError(Exception):
    """Base of the errors a provider raises; the message says what failed and the fix.

    ``status`` is the HTTP status when there was one, ``provider_message`` the provider's own
    words, ``retry_after_s`` how long the provider asked to wait before a retry.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider_message: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.provider_message = provider_message
        self.retry_after_s = retry_after_s


class TransientProviderError(ProviderError):
    """Worth retrying: rate limits, 5xx, timeouts."""


class PermanentProviderError(ProviderError):
    """Not worth retrying with the same input and settings."""


class AuthError(PermanentProviderError):
    """Missing or rejected credentials."""


class InputRejected(PermanentProviderError):
    """The provider refused this audio (too long, too large, unsupported)."""


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
