"""Writes a ticket's read model: the rows the API lists, searches and reports on."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from domain.messages import ReadModelBatch, ReadModelOutcome
from persistence.outbox import Outbound, plan_outbound, recipients_and_people, wording
from persistence.readmodel import TicketGone, apply_batch

APPLY_READ_MODEL = "apply_read_model"


class ReadModelActivities:
    """Activities backed by the PostgreSQL read model; wired with a session factory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbound: Outbound) -> None:
        self._sessions = sessions
        self._outbound = outbound

    @activity.defn(name=APPLY_READ_MODEL)
    async def apply(self, batch: ReadModelBatch) -> ReadModelOutcome:
        """Idempotently write one batch: a retry or a replay never duplicates a row.

        In the same transaction it plans what the change sends out (notifications on external
        channels, webhook deliveries) and answers the sends still pending, for the workflow
        to start as activities. A write that finds its ticket deleted is dropped whole.
        """
        try:
            async with self._sessions.begin() as session:
                resolved = await recipients_and_people(session, batch.notifications)
                recipients, people = resolved
                words = wording(batch, people, self._outbound.links)
                await apply_batch(session, batch, recipients, words)
                dispatches = await plan_outbound(session, batch, self._outbound, resolved)
        except TicketGone as gone:
            activity.logger.info("write of ticket #%s dropped: %s", batch.ticket.number, gone)
            return ReadModelOutcome()
        return ReadModelOutcome(dispatches=dispatches)
