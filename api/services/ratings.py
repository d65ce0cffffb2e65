"""Rating a ticket: the one path for `POST /tickets/{ticket}/rate` and the survey link."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.services import tickets as tickets_service
from api.services.tickets import TicketRef
from domain.errors import Forbidden
from domain.messages import RateInput
from domain.views import TicketView
from persistence.models import User


async def rate_ticket(
    session: AsyncSession,
    client: Client,
    rater: User,
    ref: str,
    score: int,
    feedback: str | None,
) -> TicketView:
    """The requester's 1–10 score (and comment) on their resolved or closed ticket.

    The ticket's workflow takes it as its `rate` update, which refuses (409) a ticket that
    is not resolved or closed; the answer is the ticket after it.
    """
    found = await tickets_service.find_ticket(session, client, rater, ref)
    return await rate_found(client, rater, found, score, feedback)


async def rate_found(
    client: Client, rater: User, found: TicketRef, score: int, feedback: str | None
) -> TicketView:
    """`rate_ticket` for a ticket the caller has found already (the survey link has)."""
    if found.view.requester_id != rater.id:
        raise Forbidden("only the ticket's requester can rate it")
    payload = RateInput(score=score, feedback=feedback, actor_id=rater.id)
    return await tickets_service.update_ticket(client, found, "rate", payload, update_id=None)
