"""The one HTTP client: sessions, timeouts, the retry policy, rate limits and key redaction.

Providers map a request and a response; everything about *sending* lives here, in one place
(openai-python's ``_base_client`` is the model):

- Retry 408, 409, 429 and 5xx, connection errors, timeouts and a 2xx whose body is not valid
  JSON; never retry 400, 401, 403, 404, 413, 415 or 422 (the same request would fail again).
- Wait what ``Retry-After`` says (seconds or an HTTP date, capped at ``MAX_RETRY_AFTER_S``);
  without it, exponential backoff from ``MIN_WAIT_S`` capped at ``MAX_WAIT_S``, with full jitter.
- The read timeout grows with the audio's duration (a 2-hour file is not a 5-second request).
- Errors are typed (:mod:`stt_eval.providers.errors`) and carry the status, the provider's own
  message and the fix; every message is scrubbed of keys (:func:`stt_eval.providers.keys.scrub`).
- A request that cannot be built (a header that is not valid, a URL that is not http(s)) is a
  permanent error: sending it again builds the same broken request.
- Each request's attempts, waits and the latency of the attempt that succeeded are added to the
  :class:`Meter` of the :func:`metered` block around it (the pipeline puts them in the row).
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from stt_eval.errors import UsageError
from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from stt_eval.providers.keys import scrub
from stt_eval.providers.ratelimit import RateLimiter

MAX_ATTEMPTS = 5
MIN_WAIT_S = 2.0
MAX_WAIT_S = 30.0
MAX_RETRY_AFTER_S = 120.0
"""A server asking for a longer pause than this is waited for this long, then retried."""
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
READ_TIMEOUT_PER_AUDIO_S = 1.0
"""Added to the read timeout per second of audio sent: batch APIs take time to answer."""

RETRY_STATUSES = frozenset({408, 409, 429})
"""Retried besides every 5xx."""
AUTH_STATUSES = frozenset({401, 403})
REJECTED_STATUSES = frozenset({400, 404, 413, 415, 422})
NOT_TAKEN_STATUSES = frozenset({429, 500, 502, 503})
"""Answers that say the server did not act on a request: a job-creating request is retried on
them (never on a timeout or a 504, after which the job may exist)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; the defaults are the common production setting."""

    attempts: int = MAX_ATTEMPTS
    min_wait_s: float = MIN_WAIT_S
    max_wait_s: float = MAX_WAIT_S
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.min_wait_s < 0 or self.max_wait_s < self.min_wait_s:
            raise UsageError(
                f"retry policy {self}: needs attempts >= 1 and 0 <= min_wait_s <= max_wait_s"
            )

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff after failed attempt number `attempt` (1-based).

        >>> RetryPolicy(min_wait_s=2, max_wait_s=30).backoff_s(10, random.Random(0)) <= 30
        True
        """
        cap = min(self.max_wait_s, self.min_wait_s * 2 ** (attempt - 1))
        return rng.uniform(self.min_wait_s, cap)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: a number of seconds or an HTTP date.

    >>> retry_after_s("3")
    3.0
    >>> retry_after_s("Wed, 21 Oct 2015 07:28:05 GMT", datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc))
    5.0
    >>> retry_after_s("soon") is None
    True
    """
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


# --------------------------------------------------------------------------- metering


@dataclass
class Meter:
    """What the requests of one transcription cost: attempts, seconds slept between them, and
    the wall time of the attempts that succeeded (a polling API adds up several requests)."""

    requests: int = 0
    attempts: int = 0
    wait_s: float = 0.0
    latency_s: float = 0.0


_METER: ContextVar[Meter | None] = ContextVar("stt_eval_http_meter", default=None)


@contextmanager
def metered() -> Iterator[Meter]:
    """Collect the requests sent inside the block (in this thread) into a new Meter."""
    meter = Meter()
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


# --------------------------------------------------------------------------- the client


@dataclass(frozen=True)
class HttpResponse:
    """A successful response: status, headers and body (``.json()`` parses it)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def body_kind(body: bytes) -> str:
    """``json``, ``text`` (a plain transcript) or ``broken`` (cut-off JSON, an HTML page,
    nothing, or not UTF-8).

    >>> body_kind(b'{"text": "hi"}'), body_kind(b"hi there\\n"), body_kind(b'{"text": "h')
    ('json', 'text', 'broken')
    >>> body_kind(b"<html>502 Bad Gateway</html>"), body_kind(b"  ")
    ('broken', 'broken')
    """
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        return "broken"
    if not text or text.startswith("<"):
        return "broken"
    try:
        json.loads(text)
    except ValueError:
        return "broken" if text[0] in "{[" else "text"
    return "json"


MESSAGE_PATHS = (
    ("error", "message"),
    ("err_msg",),
    ("errors",),
    ("error",),
    ("message",),
    ("detail",),
    ("reason",),
)
"""Where the common error bodies keep their text (OpenAI, Deepgram, Pulse, AssemblyAI, ...)."""


def provider_message(body: bytes) -> str:
    """The provider's own error text from a JSON error body (the common shapes), else the start
    of the body as text."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:300].decode("utf-8", errors="replace").strip()
    if isinstance(doc, dict):
        for path in MESSAGE_PATHS:
            value: Any = doc
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value.strip():
                return value.strip()
    return json.dumps(doc)[:300]


@dataclass
class HttpClient:
    """Sends one provider's requests with the retry policy, the rate limit and its auth headers.

    `key_variable` names the environment variable of the key (it goes in the fix of an auth
    error and of a header that cannot be sent).
    """

    provider: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    key_variable: str = ""
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    limiter: RateLimiter | None = None
    session: requests.Session = field(default_factory=requests.Session)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.perf_counter
    rng: random.Random = field(default_factory=random.Random)
    read_timeout_s: float = READ_TIMEOUT_S

    def url(self, path: str) -> str:
        return path if "://" in path else self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: bytes | Sequence[tuple[str, str]] | None = None,
        json_body: Any = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        audio_s: float = 0.0,
        expect_json: bool = True,
        idempotent: bool = True,
        accept_text: bool = False,
    ) -> HttpResponse:
        """Send a request, retrying what is worth retrying; raise a typed ProviderError.

        A request that is not `idempotent` (one that creates a billed job) is retried only when
        the server surely did not act on it: a status in ``NOT_TAKEN_STATUSES``, or a
        connection that was never made. With
        `accept_text`, a 2xx plain-text body passes the JSON check (broken JSON still retries).
        """
        meter = _METER.get()
        attempts = 0
        send = dict(params=params, data=data, json=json_body, files=files)
        send["headers"] = {**self.headers, **(headers or {})}

        def attempt() -> HttpResponse:
            nonlocal attempts
            attempts += 1
            return self._send(method, path, send, audio_s, expect_json, accept_text, meter)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            after = getattr(exc, "retry_after_s", None)
            if after is not None:
                seconds = min(after, self.policy.max_retry_after_s)
            else:
                seconds = self.policy.backoff_s(state.attempt_number, self.rng)
            if meter is not None:
                meter.wait_s += seconds
            return seconds

        def worth_retrying(exc: BaseException) -> bool:
            if not isinstance(exc, TransientProviderError):
                return False
            return idempotent or exc.status in NOT_TAKEN_STATUSES or isinstance(exc, _NotConnected)

        retrying = Retrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=wait,
            retry=retry_if_exception(worth_retrying),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except TransientProviderError as exc:
            if attempts > 1:
                exc.args = (f"{exc.args[0]} (gave up after {attempts} attempts)",)
            raise
        finally:
            if meter is not None:
                meter.requests += 1
                meter.attempts += attempts

    def _send(
        self,
        method: str,
        path: str,
        send: dict[str, Any],
        audio_s: float,
        expect_json: bool,
        accept_text: bool,
        meter: Meter | None,
    ) -> HttpResponse:
        files = send["files"]
        timeout = (CONNECT_TIMEOUT_S, self.read_timeout_s + READ_TIMEOUT_PER_AUDIO_S * audio_s)
        if files:  # a retried multipart body must be re-read from the start
            for value in files.values():
                stream = value[1] if isinstance(value, tuple) else value
                if hasattr(stream, "seek"):
                    stream.seek(0)
        limit = self.limiter.slot() if self.limiter is not None else _no_limit()
        with limit:
            start = self.clock()
            try:
                response = self.session.request(method, self.url(path), timeout=timeout, **send)
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError):
                # requests quotes the header value, the key itself: never repeat its words
                where = self.key_variable or "the API key and headers"
                raise PermanentProviderError(
                    self._say(
                        f"a request header holds a character HTTP does not allow; check {where}"
                    )
                ) from None
            except _NOT_A_URL as exc:
                raise PermanentProviderError(
                    self._say(
                        f"{self.url(path)!r} is not an http(s) URL ({type(exc).__name__}); fix base_url"
                    )
                ) from None
            except requests.ConnectTimeout as exc:
                raise _NotConnected(self._say(f"could not connect ({exc})")) from None
            except requests.Timeout as exc:
                raise TransientProviderError(self._say(f"timed out ({exc})")) from None
            except requests.ConnectionError as exc:
                if _never_connected(exc):
                    raise _NotConnected(self._say(f"could not connect ({exc})")) from None
                raise TransientProviderError(self._say(f"connection failed ({exc})")) from None
            except requests.RequestException as exc:
                raise TransientProviderError(self._say(f"could not connect ({exc})")) from None
            elapsed = self.clock() - start
        status, body = response.status_code, response.content
        if 200 <= status < 300:
            kind = body_kind(body) if expect_json else "json"
            if kind == "broken" or (kind == "text" and not accept_text):
                raise TransientProviderError(
                    self._say(f"{status} with a body that is not valid JSON: {body[:80]!r}")
                )
            if meter is not None:
                meter.latency_s += elapsed
            return HttpResponse(status, dict(response.headers), body)
        raise self._error(status, body, response.headers.get("Retry-After"))

    def _say(self, text: str) -> str:
        return scrub(f"{self.provider}: {text}")

    def _error(self, status: int, body: bytes, retry_after: str | None) -> ProviderError:
        said = provider_message(body)
        message = self._say(f"HTTP {status}: {said}")
        kw = {"status": status, "provider_message": scrub(said)}
        if status in AUTH_STATUSES:
            where = f"check {self.key_variable}" if self.key_variable else "check the API key"
            return AuthError(f"{message} — {where} (and the account's access)", **kw)
        if status in REJECTED_STATUSES:
            fix = (
                "the file is over the provider's size limit" if status == 413 else "fix the request"
            )
            return InputRejected(f"{message} — {fix}; resending it will not help", **kw)
        if status in RETRY_STATUSES or status >= 500:
            return TransientProviderError(message, retry_after_s=retry_after_s(retry_after), **kw)
        return PermanentProviderError(message, **kw)


_NOT_A_URL = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)


class _NotConnected(TransientProviderError):
    """The connection was never made, so the server cannot have acted on the request."""


def _never_connected(exc: requests.ConnectionError) -> bool:
    text = str(exc)
    return any(s in text for s in ("Connection refused", "NewConnectionError", "Name or service"))


@contextmanager
def _no_limit() -> Iterator[None]:
    yield
