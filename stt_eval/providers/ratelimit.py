"""Rate limits per provider: a token bucket of requests per minute and a cap on requests in
flight, shared by every thread of a process that calls the same endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """A token bucket of `per_minute` requests (bursts up to `burst`) and a cap on requests in
    flight, shared by the threads of one process that call the same provider."""

    def __init__(
        self,
        per_minute: float | None = None,
        in_flight: int | None = None,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute is not None and per_minute <= 0:
            raise ValueError(f"requests per minute must be > 0, got {per_minute}")
        if in_flight is not None and in_flight < 1:
            raise ValueError(f"requests in flight must be >= 1, got {in_flight}")
        self.per_minute, self.in_flight, self.burst = per_minute, in_flight, max(1, burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(in_flight) if in_flight else None

    def _take(self) -> float:
        """Take a token if there is one (0.0), else say how long until there is one."""
        with self._lock:
            now = self._clock()
            rate = self.per_minute / 60.0  # type: ignore[operator]
            self._tokens = min(self.burst, self._tokens + (now - self._last) * rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / rate

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait for a token and a free in-flight slot; hold the slot while the request runs."""
        if self._slots is not None:
            self._slots.acquire()
        try:
            while self.per_minute is not None and (wait := self._take()) > 0:
                self._sleep(wait)
            yield
        finally:
            if self._slots is not None:
                self._slots.release()


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(
    provider: str, base_url: str, per_minute: float | None, in_flight: int | None
) -> RateLimiter:
    """The process's limiter for one provider endpoint (created on first use)."""
    key = (provider, base_url)
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(key)
        if limiter is None or (limiter.per_minute, limiter.in_flight) != (per_minute, in_flight):
            limiter = _LIMITERS[key] = RateLimiter(per_minute, in_flight)
        return limiter
