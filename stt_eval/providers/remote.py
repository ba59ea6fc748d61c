"""What every HTTP provider shares: its options (base URL, rate limit, retries, price), its key,
its client and the upload-size check. Each provider module adds its request and response mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from stt_eval.providers.errors import InputRejected
from stt_eval.providers.http import (
    MAX_ATTEMPTS,
    MAX_WAIT_S,
    MIN_WAIT_S,
    READ_TIMEOUT_S,
    HttpClient,
    RetryPolicy,
)
from stt_eval.providers.keys import api_key
from stt_eval.providers.ratelimit import shared_limiter


@dataclass(frozen=True)
class RemoteProvider:
    """Options of every HTTP provider (defaults: the vendor's endpoint and documented plan).

    ``base_url`` points the provider at a proxy, a self-hosted server or a loopback test server;
    ``requests_per_minute`` and ``max_in_flight`` limit what this process sends; ``max_attempts``,
    ``min_wait_s`` and ``max_wait_s`` shape the retries; ``price_per_minute`` overrides the
    contract price (US dollars per audio minute) used for costs; ``read_timeout_s`` is the read
    timeout before the audio's share (one more second per second of audio) is added.
    """

    base_url: str = ""
    requests_per_minute: float | None = None
    max_in_flight: int | None = None
    max_attempts: int = MAX_ATTEMPTS
    min_wait_s: float = MIN_WAIT_S
    max_wait_s: float = MAX_WAIT_S
    price_per_minute: float | None = None
    read_timeout_s: float = READ_TIMEOUT_S

    KEY_VARIABLE: ClassVar[str] = ""
    API_VERSION: ClassVar[str] = ""
    """The vendor's API version (its URL path), recorded with every row and in the cache key."""
    DEFAULT_BASE_URL: ClassVar[str] = ""
    DEFAULT_PER_MINUTE: ClassVar[float | None] = None
    DEFAULT_IN_FLIGHT: ClassVar[int | None] = None
    MAX_UPLOAD_BYTES: ClassVar[int | None] = None
    OUTPUT_NEUTRAL: ClassVar[frozenset[str]] = frozenset(
        {
            "name",
            "requests_per_minute",
            "max_in_flight",
            "max_attempts",
            "min_wait_s",
            "max_wait_s",
            "price_per_minute",
            "read_timeout_s",
        }
    )
    """Options that change how requests are sent or priced, not what comes back."""

    def __post_init__(self) -> None:
        """Check the options every HTTP provider shares (a bad one is a config error naming
        the provider and the option, raised when the experiment loads)."""
        name = getattr(self, "name", type(self).__name__)
        if self.base_url and not is_http_url(self.base_url):
            raise ValueError(
                f"{name}: base_url={self.base_url!r} is not an http(s) URL; give one such as "
                f"{self.DEFAULT_BASE_URL!r} (or leave base_url out for that default)"
            )
        try:
            RetryPolicy(self.max_attempts, self.min_wait_s, self.max_wait_s)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}: max_attempts={self.max_attempts!r}, min_wait_s={self.min_wait_s!r}, "
                f"max_wait_s={self.max_wait_s!r}: needs max_attempts >= 1 and "
                "0 <= min_wait_s <= max_wait_s"
            ) from None

    @property
    def endpoint(self) -> str:
        return (self.base_url or self.DEFAULT_BASE_URL).rstrip("/")

    def auth_headers(self, key: str) -> Mapping[str, str]:
        """The documented auth header(s) for `key`."""
        raise NotImplementedError

    @property
    def key_env(self) -> str:
        """The environment variable (or .env entry) that holds the key."""
        return self.KEY_VARIABLE

    def key(self) -> str:
        return api_key(self.key_env, getattr(self, "name", type(self).__name__))

    def load(self) -> None:
        """Check the key is there before anything is sent (a clear error naming its variable)."""
        self.key()

    def client(self) -> HttpClient:
        """An HTTP client with this provider's auth, retry policy and shared rate limit."""
        key = self.key()
        name = getattr(self, "name", type(self).__name__)
        per_minute = self.requests_per_minute or self.DEFAULT_PER_MINUTE
        in_flight = self.max_in_flight or self.DEFAULT_IN_FLIGHT
        return HttpClient(
            name,
            self.endpoint,
            headers=self.auth_headers(key),
            key_variable=self.key_env,
            policy=RetryPolicy(self.max_attempts, self.min_wait_s, self.max_wait_s),
            limiter=shared_limiter(name, self.endpoint, per_minute, in_flight),
            read_timeout_s=self.read_timeout_s,
        )

    def check_size(self, body: bytes) -> None:
        """Refuse an upload over the provider's documented size limit before sending it."""
        limit = self.MAX_UPLOAD_BYTES
        if limit is not None and len(body) > limit:
            name = getattr(self, "name", type(self).__name__)
            raise InputRejected(
                f"{name}: the audio is {len(body) / 1e6:.1f} MB, over the provider's "
                f'{limit / 1e6:.0f} MB limit — chunk it (chunking = ["30s/2s"]) or shorten it'
            )

    def cache_identity(self) -> Mapping[str, Any]:
        """Every option that changes the output (never the key): endpoint, model, switches."""
        fields = {
            k: v for k, v in vars(self).items() if k not in self.OUTPUT_NEUTRAL and k != "base_url"
        }
        name = getattr(self, "name", type(self).__name__)
        version = f"api {self.API_VERSION}" if self.API_VERSION else "api"
        return {"engine": name, "version": version, "endpoint": self.endpoint, **fields}


def is_http_url(value: Any) -> bool:
    """Whether `value` is an absolute http(s) URL with a host (and a valid port, if any).

    >>> is_http_url("http://127.0.0.1:8080/v1"), is_http_url("api.example.com")
    (True, False)
    >>> is_http_url("https://h:99999"), is_http_url("https://ho st")
    (False, False)
    """
    return is_url(value, ("http", "https"))


def is_url(value: Any, schemes: tuple[str, ...]) -> bool:
    """Whether `value` is an absolute URL of one of `schemes` with a host (and a valid port)."""
    if not isinstance(value, str) or not value.isprintable() or " " in value:
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname)


REQUEST_OPTIONS = frozenset({"language", "audio_url", "vocabulary"})
"""Per-request options the pipeline passes: the sample's language, a URL where the provider
can fetch the same recording itself, and custom vocabulary phrases
(:mod:`stt_eval.providers.vocabulary`)."""


def request_options(options: Mapping[str, Any] | None, provider: str) -> dict[str, Any]:
    """The per-request options, refusing keys this provider does not understand (a misspelt
    option silently ignored would make a run measure something else than intended)."""
    opts = dict(options or {})
    unknown = sorted(set(opts) - REQUEST_OPTIONS)
    if unknown:
        raise ValueError(
            f"{provider}: unknown request option(s) {unknown}; known: {sorted(REQUEST_OPTIONS)}"
        )
    return opts
