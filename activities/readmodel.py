"""Writes a ticket's read model: the rows the API lists, searches and reports on."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.messages import ReadModelBatch
from persistence.readmodel import apply_batch

APPLY_READ_MODEL = "apply_read_model"


class ReadModelActivities:
    """Activities backed by the PostgreSQL read model; wired with a session factory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=APPLY_READ_MODEL)
    async def apply(self, batch: ReadModelBatch) -> None:
        """Idempotently write one batch: a retry or a replay never duplicates a row."""
        async with self._sessions.begin() as session:
            await apply_batch(session, batch)
