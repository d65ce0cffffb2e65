"""A local HTTP stand-in for a third-party service: a real server on 127.0.0.1.

It records every request exactly as it arrived (method, path, query, headers, body bytes)
and answers from a script: answers queued per path are used once each, in order; after
that a path's standing answer, else the server's default (200 with `{}`).

    with StandIn() as provider:
        provider.enqueue("/v3/mail/send", Answer(429, headers={"Retry-After": "7"}))
        ...  # point an SDK at provider.url and call it
        [request] = provider.requests_to("/v3/mail/send")
        assert request.header("authorization") == "Bearer key"

Paths are matched exactly, without the query string. The server speaks HTTP/1.1 with
keep-alive, so pooled SDK clients behave as they would against the real service.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

_POLL_SECONDS = 0.01
WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    """One scripted response: `payload` is sent as JSON unless raw `body` bytes are given."""

    status: int = 200
    payload: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0  # seconds to sit on the request before answering: a slow provider

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """The body bytes and headers to send, with Content-Type for a JSON payload."""
        headers = dict(self.headers)
        if self.body is not None:
            return self.body, headers
        if self.payload is None:
            return b"", headers
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
        return json.dumps(self.payload).encode(), headers


@dataclass(frozen=True)
class RecordedRequest:
    """A request as received; header names keep their case, lookups ignore it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        """The body as an application/x-www-form-urlencoded form."""
        return parse_qs(self.body.decode(), keep_blank_values=True)


class StandIn:
    """The server; a context manager, started on entry and stopped on exit."""

    def __init__(self, default: Answer | None = None) -> None:
        self.default = default if default is not None else Answer(payload={})
        self._lock = threading.Lock()
        self._queued: defaultdict[str, deque[Answer]] = defaultdict(deque)
        self._standing: dict[str, Answer] = {}
        self._requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def enqueue(self, path: str, *answers: Answer) -> None:
        """Answer the next requests to `path` with these, once each, in order."""
        with self._lock:
            self._queued[path].extend(answers)

    def route(self, path: str, answer: Answer) -> None:
        """Answer every request to `path` with this once its queue is empty."""
        with self._lock:
            self._standing[path] = answer

    def reset(self) -> None:
        """Forget recorded requests and scripted answers (the default stays)."""
        with self._lock:
            self._queued.clear()
            self._standing.clear()
            self._requests.clear()

    async def wait_for(self, count: int, path: str | None = None) -> list[RecordedRequest]:
        """Wait until `count` requests (to `path`, if given) have arrived; return them.

        Gives up with TimeoutError after WAIT_SECONDS; wrap in `asyncio.timeout` to wait less.
        """
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                while True:
                    found = self.requests if path is None else self.requests_to(path)
                    if len(found) >= count:
                        return found
                    await asyncio.sleep(_POLL_SECONDS)
        except TimeoutError:
            seen = [f"{request.method} {request.path}" for request in self.requests]
            wanted = f"{count} requests to {path or 'any path'}"
            raise TimeoutError(f"waited for {wanted}; saw {seen}") from None

    def start(self) -> None:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name="standin",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> StandIn:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> Answer:
        with self._lock:
            self._requests.append(request)
            queued = self._queued.get(request.path)
            if queued:
                return queued.popleft()
            return self._standing.get(request.path, self.default)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, standin: StandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are dropped after this, so no handler thread lingers.
    timeout = 5
    server: _Server

    def _handle(self) -> None:
        target = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=target.path,
            query=parse_qs(target.query, keep_blank_values=True),
            headers=tuple(self.headers.items()),
            body=self._read_body(),
        )
        answer = self.server.standin._record(request)
        if answer.delay:
            time.sleep(answer.delay)  # this request's own thread
        try:
            self._answer(answer)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the caller gave up (or died) while we sat on it

    def _answer(self, answer: Answer) -> None:
        body, headers = answer.encoded()
        self.send_response(answer.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    # The names http.server dispatches on: every method gets the same treatment.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle  # noqa: N815

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailer fields
        return b"".join(chunks)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the recorded requests are the log
