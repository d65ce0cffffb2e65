"""Throwaway, migrated databases on a test PostgreSQL server."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path

from ticketflow.devstack import EmbeddedPostgres, create_database, drop_database

SERVER_URL_VARIABLES = ("TEST_DATABASE_URL", "DATABASE_URL")


def configured_server_url() -> str | None:
    """The PostgreSQL the environment names for tests, if any."""
    for name in SERVER_URL_VARIABLES:
        if value := os.environ.get(name):
            return value
    return None


@contextmanager
def server_dir() -> Iterator[Path]:
    """A temporary dir for a server that runs as another user (embedded PostgreSQL as root).

    Not under pytest's tmp_path: pytest resets /tmp/pytest-of-<user> to mode 0700 whenever
    a session starts (say, a colleague's), locking that user out of a data dir in use.
    """
    path = Path(tempfile.mkdtemp(prefix="ticketflow-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def server_for_tests(embedded_dir: Path) -> AsyncIterator[str]:
    """The configured server, else an embedded one under `embedded_dir` for the block."""
    async with AsyncExitStack() as stack:
        url = configured_server_url()
        if url is None:
            server = await stack.enter_async_context(
                EmbeddedPostgres(embedded_dir, database="postgres")
            )
            url = server.url
        yield url


@asynccontextmanager
async def scratch_database(server_url: str, *, migrate: bool = True) -> AsyncIterator[str]:
    """A new `tf_test_<hex>` database (migrated to head), dropped after the block."""
    name = f"tf_test_{uuid.uuid4().hex[:12]}"
    url = await create_database(server_url, name)
    try:
        if migrate:
            from persistence.migrate import upgrade_async

            await upgrade_async(url)
            await _offset_ticket_numbers(url)
        yield url
    finally:
        await drop_database(server_url, name)


async def _offset_ticket_numbers(url: str) -> None:
    """Start this database's ticket numbers far from any other's.

    Ticket workflows are named by number (`ticket-<n>`), and every test database shares one
    Temporal server: two databases both handing out #1 would meet in the same workflow.
    """
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    start = 10**10 + secrets.randbelow(10**12)
    connection = await asyncpg.connect(
        user=parsed.username,
        password=parsed.password,
        host=parsed.query.get("host") or parsed.host,
        port=parsed.port,
        database=parsed.database,
    )
    try:
        await connection.execute(f"ALTER SEQUENCE ticket_number_seq RESTART WITH {start}")
    finally:
        await connection.close()
