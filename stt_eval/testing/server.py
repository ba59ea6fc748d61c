"""A real HTTP server on 127.0.0.1 for testing provider clients offline, with injected faults.

Each provider's loopback server (``stt_eval.testing.<provider>``) is a route table on top of
:class:`LoopbackServer`: it checks the documented auth header and parameters and answers in the
documented shape. Tests inject faults that the next requests receive instead::

    with LoopbackServer(routes, auth=("Authorization", "Bearer k")) as server:
        server.inject(Fault(status=429, retry_after="2"), Fault(status=503))
        ...  # the client sees 429, then 503, then the real answer
        assert len(server.requests) == 3

Only loopback addresses are ever bound; requests are logged without their auth header.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request as the server saw it (the auth header is left out)."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """What a route answers: a status, a JSON document (or raw bytes) and headers."""

    status: int = 200
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass(frozen=True)
class Fault:
    """What the next request gets instead of its answer.

    ``status``/``body``/``retry_after``: an error reply. ``delay_s``: sleep first (longer than
    the client's timeout to make it time out), then answer normally. ``truncate``: the real
    answer cut in half. ``invalid_json``: a 200 whose body is not JSON. ``edit``: the real JSON
    answer passed through this function (e.g. to break some word entries). ``path``: only
    requests to this path (a prefix, if it ends in ``*``) take the fault (others pass it by).
    """

    status: int | None = None
    body: Any = None
    retry_after: str | None = None
    delay_s: float = 0.0
    truncate: bool = False
    invalid_json: bool = False
    edit: Callable[[Any], Any] | None = None
    path: str | None = None

    def applies_to(self, path: str) -> bool:
        if self.path is None or self.path == path:
            return True
        return self.path.endswith("*") and path.startswith(self.path[:-1])


Route = Callable[[Request], Reply]


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) answering from a route table.

    `routes` maps ``(METHOD, path)`` to a function of the request; a path ending in ``*``
    matches by prefix. `auth` is the header (name, exact value) every request must carry (401
    otherwise, with `unauthorized` as body). `per_minute` limits requests like a real plan
    (429 with Retry-After over it).
    """

    def __init__(
        self,
        routes: Mapping[tuple[str, str], Route],
        *,
        auth: tuple[str, str] | None = None,
        unauthorized: Any = None,
        per_minute: int | None = None,
    ) -> None:
        self.routes = dict(routes)
        self.auth = auth
        self.unauthorized = unauthorized if unauthorized is not None else {"error": "unauthorized"}
        self.per_minute = per_minute
        self.requests: list[Request] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, *faults: Fault) -> None:
        """Queue faults for the next requests, one fault per request, in order."""
        with self._lock:
            self._faults.extend(faults)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # ----------------------------------------------------------------------- handling

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.applies_to(path):
                    del self._faults[i]
                    return fault
        return None

    def _over_limit(self) -> bool:
        if self.per_minute is None:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 60.0:
                self._recent.popleft()
            if len(self._recent) >= self.per_minute:
                return True
            self._recent.append(now)
            return False

    def _route(self, method: str, path: str) -> Route | None:
        if (method, path) in self.routes:
            return self.routes[(method, path)]
        for (m, p), route in self.routes.items():
            if m == method and p.endswith("*") and path.startswith(p[:-1]):
                return route
        return None

    def handle(self, request: Request, auth_value: str | None) -> Reply:
        """The reply to one request: fault, auth, rate limit, then the route."""
        fault = self._next_fault(request.path)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is not None and fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return Reply(fault.status, fault.body if fault.body is not None else {}, headers)
        if self.auth is not None and auth_value != self.auth[1]:
            return Reply(401, self.unauthorized)
        if self._over_limit():
            return Reply(429, {"error": "rate limit exceeded"}, {"Retry-After": "1"})
        route = self._route(request.method, request.path)
        reply = route(request) if route else Reply(404, {"error": f"no route {request.path}"})
        if fault is not None and fault.edit is not None and not isinstance(reply.body, bytes):
            return Reply(reply.status, fault.edit(reply.body), reply.headers)
        if fault is not None and fault.invalid_json:
            return Reply(200, b"<html>502 Bad Gateway</html>", reply.headers)
        if fault is not None and fault.truncate:
            body = reply.encoded()
            return Reply(reply.status, body[: len(body) // 2], reply.headers)
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet: tests read server.requests
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                auth_name = server.auth[0] if server.auth else "Authorization"
                headers = {k: v for k, v in self.headers.items() if k.lower() != auth_name.lower()}
                request = Request(self.command, parts.path, parse_qs(parts.query), headers, body)
                with server._lock:
                    server.requests.append(request)
                reply = server.handle(request, self.headers.get(auth_name))
                payload = reply.encoded()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler
