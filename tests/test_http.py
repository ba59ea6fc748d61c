"""The one HTTP layer against a real loopback server: what is retried, how long it waits, what
is never sent twice, and that keys never reach a message."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from stt_eval.providers.errors import (
    AuthError,
    InputRejected,
    PermanentProviderError,
    TransientProviderError,
)
from stt_eval.providers.http import HttpClient, RetryPolicy, metered, retry_after_s
from stt_eval.providers.keys import api_key
from stt_eval.providers.ratelimit import RateLimiter
from stt_eval.testing.server import Fault, LoopbackServer, Reply

KEY = "sk-test-0123456789"


class FakeClock:
    """Sleeps advance time instead of passing it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server():
    routes = {("POST", "/v1/echo"): lambda req: Reply(200, {"ok": True, "got": len(req.body)})}
    with LoopbackServer(routes, auth=("Authorization", f"Bearer {KEY}")) as srv:
        yield srv


def _client(server, clock, key=KEY, **policy) -> HttpClient:
    return HttpClient(
        "echo",
        server.url,
        headers={"Authorization": f"Bearer {key}"},
        key_variable="ECHO_KEY",
        policy=RetryPolicy(**policy),
        sleep=clock.sleep,
        rng=random.Random(0),
    )


@pytest.mark.parametrize(
    ("header", "waited"),
    [("3", 3.0), ("0", 0.0), ("1000", 120.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 120.0)],
    ids=["seconds", "zero", "capped", "date-in-the-past-is-0-then-capped-not-negative"],
)
def test_retry_after_is_obeyed_and_capped(server, header, waited):
    clock = FakeClock()
    server.inject(Fault(status=429, body={"error": {"message": "slow down"}}, retry_after=header))
    with metered() as meter:
        assert _client(server, clock).request("POST", "/v1/echo", data=b"abc").json()["got"] == 3
    expected = 0.0 if header.startswith("Wed") else waited
    assert clock.slept == [expected] and meter.attempts == 2 and meter.wait_s == expected
    assert len(server.requests) == 2


def test_retry_after_http_date_in_the_future():
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)
    assert retry_after_s("Mon, 30 Nov 2026 12:00:07 GMT", now) == 7.0
    assert retry_after_s("Mon, 30 Nov 2026 11:00:00 GMT", now) == 0.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_transient_statuses_are_retried_with_capped_backoff(server, status):
    clock = FakeClock()
    server.inject(*[Fault(status=status)] * 3)
    _client(server, clock, min_wait_s=2, max_wait_s=5).request("POST", "/v1/echo", data=b"x")
    assert len(server.requests) == 4 and len(clock.slept) == 3
    assert all(2 <= s <= 5 for s in clock.slept)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InputRejected),
        (401, AuthError),
        (403, AuthError),
        (404, InputRejected),
        (413, InputRejected),
        (422, InputRejected),
        (402, PermanentProviderError),
    ],
)
def test_client_errors_are_sent_exactly_once(server, status, error, monkeypatch):
    monkeypatch.setenv("ECHO_KEY", KEY)  # a configured key: scrubbed from every message
    clock = FakeClock()
    server.inject(Fault(status=status, body={"error": {"message": f"nope {KEY}"}}))
    with pytest.raises(error) as info:
        _client(server, clock).request("POST", "/v1/echo", data=b"x")
    assert len(server.requests) == 1 and clock.slept == []
    assert info.value.status == status and "nope ***" in str(info.value)
    assert KEY not in str(info.value) and KEY not in (info.value.provider_message or "")


def test_giving_up_says_how_often_it_tried(server):
    clock = FakeClock()
    server.inject(*[Fault(status=503, body={"message": "overloaded"})] * 5)
    with pytest.raises(TransientProviderError, match=r"HTTP 503: overloaded.*after 5 attempts"):
        _client(server, clock).request("POST", "/v1/echo", data=b"x")
    assert len(server.requests) == 5


@pytest.mark.parametrize(
    "fault", [Fault(truncate=True), Fault(invalid_json=True)], ids=["truncated", "not-json"]
)
def test_a_200_that_is_not_json_is_retried(server, fault):
    clock = FakeClock()
    server.inject(fault)
    assert _client(server, clock).request("POST", "/v1/echo", data=b"xy").json()["got"] == 2
    assert len(server.requests) == 2


def test_a_wrong_key_is_an_auth_error_naming_the_variable(server):
    with pytest.raises(AuthError, match="check ECHO_KEY") as info:
        _client(server, FakeClock(), key="sk-wrong-key").request("POST", "/v1/echo", data=b"x")
    assert "sk-wrong-key" not in str(info.value)


def test_connection_refused_is_transient():
    clock = FakeClock()
    client = HttpClient("gone", "http://127.0.0.1:9", sleep=clock.sleep, policy=RetryPolicy(2))
    with pytest.raises(TransientProviderError, match="could not connect"):
        client.request("GET", "/x")
    assert len(clock.slept) == 1


def test_missing_key_names_the_variable_and_dotenv_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("STT_EVAL_TEST_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AuthError, match="STT_EVAL_TEST_KEY"):
        api_key("STT_EVAL_TEST_KEY", "echo")
    (tmp_path / ".env").write_text("STT_EVAL_TEST_KEY=from-dotenv\n")
    assert api_key("STT_EVAL_TEST_KEY", "echo") == "from-dotenv"


def test_rate_limiter_spaces_requests_to_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(per_minute=30, clock=clock, sleep=clock.sleep)  # one every 2 s
    starts = []
    for _ in range(5):
        with limiter.slot():
            starts.append(clock.now)
    assert starts == pytest.approx([0.0, 2.0, 4.0, 6.0, 8.0])
