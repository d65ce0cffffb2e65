"""An empty, migrated database per test: what `ticketflow init` meets on a new deployment."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from persistence.db import create_engine, session_factory
from tests.support.postgres import scratch_database


@pytest_asyncio.fixture(loop_scope="session")
async def empty_desk(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a database of the test's own, migrated and holding nothing else."""
    async with scratch_database(database_url) as url:
        engine = create_engine(url)
        try:
            yield session_factory(engine)
        finally:
            await engine.dispose()
