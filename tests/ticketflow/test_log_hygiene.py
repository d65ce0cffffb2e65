"""What processes log carries no secrets: failing queries without their values, request lines
of the real uvicorn without query values or the tokens some paths hold."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.types import Receive, Scope, Send
from websockets.asyncio.client import connect

from persistence.db import create_engine
from ticketflow import log_hygiene
from ticketflow.devstack.serve import ApiServer

SECRET_EMAIL = "alice.private@example.com"
SECRET_TOKEN = "s3cr3t-token-value"
LONG_TOKEN = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
_FORMAT = "%(levelname)s %(name)s: %(message)s"


@pytest.fixture
def hygiene() -> Iterator[None]:
    """Log hygiene installed as `ticketflow` installs it, undone after the test."""
    before = logging.getLogRecordFactory()
    log_hygiene.install()
    try:
        yield
    finally:
        logging.setLogRecordFactory(before)


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """Everything logged under `tests.hygiene`, formatted with tracebacks as a handler would."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger = logging.getLogger("tests.hygiene")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        logger.removeHandler(handler)


async def failing_queries(database_url: str) -> list[DBAPIError]:
    """Real failures with a secret in them: a value asyncpg refuses (its message quotes it),
    and a duplicate (PostgreSQL's DETAIL quotes the key)."""
    engine = create_engine(database_url)
    caught: list[DBAPIError] = []
    try:
        async with engine.connect() as conn:
            await conn.execute(text("create temp table people (email text unique)"))
            insert = text("insert into people values (:email)")
            await conn.execute(insert, {"email": SECRET_EMAIL})
            await conn.commit()
            for statement, params in (
                (text("select cast(:n as integer)"), {"n": SECRET_EMAIL}),
                (insert, {"email": SECRET_EMAIL}),
            ):
                try:
                    await conn.execute(statement, params)
                except DBAPIError as error:
                    caught.append(error)
                    await conn.rollback()
    finally:
        await engine.dispose()
    assert len(caught) == 2
    return caught


@pytest.mark.usefixtures("hygiene")
async def test_failing_queries_are_logged_without_their_values(
    database_url: str, written: io.StringIO
) -> None:
    log = logging.getLogger("tests.hygiene")
    for error in await failing_queries(database_url):
        try:
            raise RuntimeError("the request failed") from error
        except RuntimeError:
            log.exception("unhandled error")
        log.info("data error: %s", error)
        log.error(error)
    output = written.getvalue()
    assert SECRET_EMAIL not in output
    # What is left says what failed, and where.
    assert "sqlstate 23505" in output
    assert "people_email_key" in output
    assert "sqlstate 22000" in output
    assert "Traceback (most recent call last)" in output
    assert "failing_queries" in output  # the frames are kept
    assert "RuntimeError: the request failed" in output


@pytest.mark.usefixtures("hygiene")
def test_other_records_are_left_alone(written: io.StringIO) -> None:
    log = logging.getLogger("tests.hygiene")
    log.info("opened ticket #%d for %s", 7, "/api/v1/tickets?x=1")
    try:
        raise ValueError("plain bug")
    except ValueError:
        log.exception("boom")
    output = written.getvalue()
    assert "opened ticket #7 for /api/v1/tickets?x=1" in output
    assert "ValueError: plain bug" in output


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (
            "/api/v1/webhooks/sendgrid/inbound?token=abc",
            "/api/v1/webhooks/sendgrid/inbound?token=…",
        ),
        ("/x?a=1&b=&c", "/x?a=…&b=…&c"),
        ("/api/v1/auth/verify-email/abc.def", "/api/v1/auth/verify-email/…"),
        ("/api/v1/surveys/abc/", "/api/v1/surveys/…/"),
        (f"/api/v1/anything/{LONG_TOKEN}/more", "/api/v1/anything/…/more"),
        (
            "/api/v1/tickets/6f1d3c2a-9b7e-4c1d-8e2f-0a1b2c3d4e5f/comments",
            "/api/v1/tickets/6f1d3c2a-9b7e-4c1d-8e2f-0a1b2c3d4e5f/comments",
        ),
        ("/health", "/health"),
    ],
)
def test_paths_are_redacted(path: str, logged: str) -> None:
    assert log_hygiene.redact_path(path) == logged


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers every request 200 and accepts every WebSocket, as far as logging goes."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})


@pytest_asyncio.fixture
async def uvicorn_url(hygiene: None) -> AsyncIterator[str]:
    """A real uvicorn with its own logging configuration, as `ticketflow api` runs it."""
    server = ApiServer(uvicorn.Config(_app, host="127.0.0.1", port=0, lifespan="off"))
    serving = asyncio.create_task(server.serve_or_fail())
    async with asyncio.timeout(10):
        await server.listening.wait()
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_uvicorn_request_lines_hold_no_tokens(
    uvicorn_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addHandler(caplog.handler)
    try:
        async with httpx.AsyncClient(base_url=f"http://{uvicorn_url}", trust_env=False) as http:
            await http.post(f"/api/v1/webhooks/sendgrid/inbound?token={SECRET_TOKEN}")
            await http.get(f"/api/v1/auth/verify-email/{LONG_TOKEN}")
            await http.get(f"/api/v1/surveys/{SECRET_TOKEN}")
            await http.get("/api/v1/tickets/search", params={"q": SECRET_EMAIL})
        url = f"ws://{uvicorn_url}/api/v1/notifications/ws?token={LONG_TOKEN}"
        async with connect(url, proxy=None, open_timeout=10) as socket:
            await socket.wait_closed()
    finally:
        for name in ("uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records]
    assert any(
        '"POST /api/v1/webhooks/sendgrid/inbound?token=… HTTP/1.1" 200' in line for line in lines
    ), lines
    assert any("/api/v1/auth/verify-email/…" in line for line in lines), lines
    assert any('"WebSocket /api/v1/notifications/ws?token=…"' in line for line in lines), lines
    everything = "\n".join(lines) + caplog.text
    for secret in (SECRET_TOKEN, LONG_TOKEN, SECRET_EMAIL, "alice.private"):
        assert secret not in everything
