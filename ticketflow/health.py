"""`GET /health` for a process that serves no HTTP of its own (the worker), for container checks.

It answers 200 while `healthy()` is true and 503 otherwise; any other path is a 404. It listens
on 127.0.0.1 only: the container's own health check is the one caller, and nothing else needs
to reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from functools import partial

from ticketflow.settings import WORKER_HEALTH_PORT_VARIABLE

HEALTH_HOST = "127.0.0.1"
HEALTH_PATH = "/health"
# A caller that sends nothing (or a port scanner) is dropped after this long.
_READ_TIMEOUT_S = 5.0
_MAX_HEADER_LINES = 100
_READ_ERRORS = (TimeoutError, ValueError, ConnectionError, asyncio.IncompleteReadError)

Healthy = Callable[[], bool]


class HealthPortError(Exception):
    """The health endpoint could not listen; the message names the setting."""


@contextlib.asynccontextmanager
async def health_endpoint(port: int | None, healthy: Healthy) -> AsyncIterator[None]:
    """Serve `GET /health` on 127.0.0.1:`port` inside the block; nothing when `port` is None.

    Raises HealthPortError, before the block runs, when the port cannot be bound.
    """
    if port is None:
        yield
        return
    try:
        server = await asyncio.start_server(partial(_answer, healthy), HEALTH_HOST, port)
    except OSError as err:
        raise HealthPortError(
            f"cannot serve the health check on {HEALTH_HOST}:{port} "
            f"({WORKER_HEALTH_PORT_VARIABLE}): {err.strerror or err}"
        ) from err
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


async def _answer(
    healthy: Healthy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        async with asyncio.timeout(_READ_TIMEOUT_S):
            request_line = await _read_request(reader)
        status, reason = _status(request_line, healthy)
        body = f'{{"status": "{reason.lower()}"}}\n'.encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
    except _READ_ERRORS:
        pass  # the caller went away or sent garbage: nothing to answer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    """The request line; the headers are read and ignored (a health check sends no body)."""
    request_line = await reader.readline()
    for _ in range(_MAX_HEADER_LINES):
        if await reader.readline() in (b"\r\n", b"\n", b""):
            break
    return request_line


def _status(request_line: bytes, healthy: Healthy) -> tuple[int, str]:
    parts = request_line.decode("latin-1").split()
    if len(parts) != 3:
        return 400, "Bad Request"
    method, path, _version = parts
    if path.split("?", 1)[0] != HEALTH_PATH:
        return 404, "Not Found"
    if method != "GET":
        return 405, "Method Not Allowed"
    return (200, "OK") if healthy() else (503, "Service Unavailable")
