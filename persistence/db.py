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

    `overrides` go to SQLAlchemy; with a `poolclass` (e.g. NullPool) the sizing is left out.
    """
    options: dict[str, Any] = {"pool_pre_ping": True, "json_serializer": json_dumps}
    if "poolclass" not in overrides:
        options.update(pool_size=10, max_overflow=20)
    options.update(overrides)
    return _create_async_engine(async_url(database_url), **options)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy reloads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)
