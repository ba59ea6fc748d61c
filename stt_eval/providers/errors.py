"""The typed errors every provider raises; the runner decides from the type whether to retry."""

from __future__ import annotations

from stt_eval.errors import SttEvalError


class ProviderError(SttEvalError):
    """Base of the errors a provider raises; the message says what failed and the fix.

    ``status`` is the HTTP status when there was one, ``provider_message`` the provider's own
    words, ``retry_after_s`` how long the provider asked to wait before a retry, ``close_code``
    the WebSocket close code that ended a stream (a streaming provider's 1008, 1011, 3007...).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider_message: str | None = None,
        retry_after_s: float | None = None,
        close_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.provider_message = provider_message
        self.retry_after_s = retry_after_s
        self.close_code = close_code


class TransientProviderError(ProviderError):
    """Worth retrying: rate limits, 5xx, timeouts."""


class PermanentProviderError(ProviderError):
    """Not worth retrying with the same input and settings."""


class AuthError(PermanentProviderError):
    """Missing or rejected credentials."""


class InputRejected(PermanentProviderError):
    """The provider refused this audio (too long, too large, unsupported)."""
