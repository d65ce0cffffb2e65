"""Routing: who should work a ticket nobody is assigned to."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.messages import PickAgentInput, PickAgentResult
from persistence.readmodel import recount_load
from persistence.routing import RoutingBusy, pick_agent

PICK_AGENT = "pick_agent"
RELEASE_PICK = "release_pick"


class RoutingActivities:
    """Agent selection backed by the users table; wired with a session factory."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=PICK_AGENT)
    async def pick(self, input: PickAgentInput) -> PickAgentResult:
        """The least-loaded online agent that fits, counted against their capacity at once."""
        # Its own short transaction: the pick holds the department's routing lock until commit.
        try:
            async with self._sessions.begin() as session:
                agent = await pick_agent(
                    session, input.department_id, input.category, exclude=set(input.exclude)
                )
        except RoutingBusy as busy:
            # Retried by the workflow's retry policy, a fraction of a second later.
            raise ApplicationError(str(busy), type="RoutingBusy") from busy
        return PickAgentResult(agent_id=agent)

    @activity.defn(name=RELEASE_PICK)
    async def release(self, agent_id: UUID) -> None:
        """Give back a pick the ticket did not use: recount the agent's real load."""
        async with self._sessions.begin() as session:
            await recount_load(session, [agent_id])
