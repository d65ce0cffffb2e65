"""The Alembic revision builds exactly the schema the models describe, and undoes it."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from persistence.db import create_engine
from persistence.migrate import downgrade, upgrade
from persistence.models import Base
from tests.support.postgres import scratch_database


def _schema_drift(connection: Connection) -> list[Any]:
    options = {"compare_type": True, "compare_server_default": True}
    context = MigrationContext.configure(connection, opts=options)
    return list(compare_metadata(context, Base.metadata))


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return set(names)
    finally:
        await engine.dispose()


async def test_upgrade_matches_the_models_and_downgrade_undoes_it(database_url: str) -> None:
    # A database of its own on the session's server: this test drops everything.
    async with scratch_database(database_url, migrate=False) as url:
        # Called from inside the running test loop on purpose: the worker-thread path.
        upgrade(url)
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                assert await connection.run_sync(_schema_drift) == []
        finally:
            await engine.dispose()

        downgrade(url, "base")
        assert await _tables(url) == {"alembic_version"}

        upgrade(url)
        assert {"tickets", "users", "sla_history", "notifications"} <= await _tables(url)
