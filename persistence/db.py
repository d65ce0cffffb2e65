"""The async engine and session factory, with database URLs normalised to asyncpg."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+asyncpg"}


def async_url(database_url: str | URL) -> URL:
    """The URL with the asyncpg driver; libpq's `sslmode` becomes asyncpg's `ssl`.

    Unix-socket URLs (`postgresql://user@/db?host=/run/postgresql`) pass through: asyncpg
    takes `host` from the query string.
    """
    url = make_url(database_url)
    if url.drivername not in _POSTGRES_DRIVERS:
        raise ValueError(f"not a PostgreSQL URL: {url.drivername}://…")
    url = url.set(drivername="postgresql+asyncpg")
    if "sslmode" in url.query:
        url = url.update_query_dict({"ssl": url.query["sslmode"]}).difference_update_query(
            ["sslmode"]
        )
    return url


def json_dumps(value: Any) -> str:
    """JSON for jsonb columns; UUIDs, datetimes and durations as pydantic writes them."""
    return json.dumps(value, default=to_jsonable_python, separators=(",", ":"))


def create_engine(database_url: str | URL, **overrides: Any) -> AsyncEngine:
    """An asyncpg engine with a pool sized for one small service process.

    Its errors never show the statement's parameters (e-mails, password hashes, ticket text
    end up in logs and in Temporal's failure records otherwise): `hide_parameters`.
    `overrides` go to SQLAlchemy; with a `poolclass` (e.g. NullPool) the sizing is left out.
    """
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "json_serializer": json_dumps,
        "hide_parameters": True,
    }
    if "poolclass" not in overrides:
        options.update(pool_size=10, max_overflow=20)
    options.update(overrides)
    return _create_async_engine(async_url(database_url), **options)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reloads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


# What a database error may say about itself in a log: codes and names, never values.
_ERROR_FIELDS = ("constraint_name", "table_name", "column_name", "data_type_name")
_MAX_STATEMENT_CHARS = 500


def describe_db_error(error: BaseException) -> str:
    """A database error as it may be logged: its kind, SQLSTATE, the constraint, table and
    column it names, and the statement with its placeholders (`$1`), but not its message.

    PostgreSQL's and asyncpg's messages quote values ("Key (email)=(…) already exists",
    "invalid input for query argument $1: '…'"), so they are left out.
    """
    details = [f"sqlstate {code}"] if (code := db_sqlstate(error)) else []
    for source in _chain(error):
        for field in _ERROR_FIELDS:
            value = getattr(source, field, None)
            label = field.removesuffix("_name").replace("_", " ")
            if isinstance(value, str) and value and f"{label} {value}" not in details:
                details.append(f"{label} {value}")
    text = type(error).__name__ + (f" ({', '.join(details)})" if details else "")
    statement = getattr(error, "statement", None)
    if isinstance(statement, str) and statement:
        text += " in: " + " ".join(statement.split())[:_MAX_STATEMENT_CHARS]
    return text


def _chain(error: BaseException) -> list[BaseException]:
    """The error, the driver's error it wraps (`orig`), and what caused those."""
    found: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or any(current is seen for seen in found) or len(found) > 8:
            continue
        found.append(current)
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None, current.__cause__]
    return found


def db_sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (of the driver's error it wraps), if it has one."""
    for source in _chain(error):
        code = getattr(source, "sqlstate", None) or getattr(source, "pgcode", None)
        if isinstance(code, str) and code:
            return code
    return None
