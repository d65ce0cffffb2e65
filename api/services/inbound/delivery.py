"""Landing an inbound message: a reply signalled to its ticket, or a new ticket opened.

New tickets go through the same service as `POST /tickets`, with an idempotency key taken
from the provider's message id, so a redelivered message finds the ticket it opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.schemas.tickets import TicketCreate
from api.services import tickets as tickets_service
from domain.enums import TicketStatus
from domain.views import TicketView
from persistence.models import Department, Ticket, User
from persistence.repositories import tickets as tickets_repo
from ticketflow.settings import Settings


@dataclass(frozen=True)
class Landed:
    """Where a message went: the ticket, the comment it became (None: it opened the ticket)."""

    ticket: int
    comment_id: UUID | None = None
    opened: TicketView | None = None  # set when this delivery opened the ticket


async def signal_ticket(client: Client, number: int, signal: str, payload: BaseModel) -> bool:
    """Signal the ticket's workflow; False when the workflow is gone for good."""
    handle = client.get_workflow_handle(tickets_service.workflow_id(number))
    try:
        async with tickets_service.engine_deadline():
            await handle.signal(signal, payload)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def earlier_ticket(session: AsyncSession, requester: User, key: str) -> int | None:
    """The ticket an earlier delivery of the same message opened, if one did."""
    return await tickets_repo.ticket_number_for_key(session, requester.id, key)


async def open_ticket(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    requester: User,
    body: TicketCreate,
    key: str,
) -> Landed:
    opened = await tickets_service.open_new_ticket(session, client, settings, requester, body, key)
    return Landed(opened.ticket.number, opened=opened.ticket if opened.created else None)


async def latest_open_ticket(session: AsyncSession, requester_id: UUID) -> int | None:
    """The requester's most recent ticket that is not closed (a resolved one still counts)."""
    return await session.scalar(
        select(Ticket.number)
        .where(
            Ticket.requester_id == requester_id,
            Ticket.status != TicketStatus.CLOSED,
            Ticket.deleted_at.is_(None),
        )
        .order_by(Ticket.created_at.desc(), Ticket.number.desc())
        .limit(1)
    )


async def department_for(session: AsyncSession, addresses: Sequence[str]) -> UUID | None:
    """The department whose address the message was sent to (its `notification_email`)."""
    if not addresses:
        return None
    return await session.scalar(
        select(Department.id)
        .where(func.lower(Department.notification_email).in_(list(addresses)))
        .order_by(Department.created_at, Department.id)
        .limit(1)
    )
