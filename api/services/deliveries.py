"""What was sent about a ticket, on which channel, to where, and how it went (staff only).

The body is left out on purpose: a "resolved" message carries the requester's survey link,
which rates the ticket as them. A push device token is shortened to its tail, enough to
tell devices apart.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.common import Page
from api.schemas.deliveries import DeliveryOut
from api.services import tickets as tickets_service
from persistence.models import Notification, NotificationChannel, User
from persistence.repositories import deliveries as deliveries_repo

TOKEN_TAIL = 8


async def ticket_deliveries(
    session: AsyncSession,
    client: Client,
    caller: User,
    ref: str,
    *,
    limit: int,
    cursor: str | None,
) -> Page[DeliveryOut]:
    """The ticket's notification rows on every channel, newest first (if `caller` sees it)."""
    found = await tickets_service.find_ticket(session, client, caller, ref)
    page = await deliveries_repo.list_for_ticket(session, found.view.id, limit=limit, cursor=cursor)
    return Page(items=[_shown(row) for row in page.items], next_cursor=page.next_cursor)


def _shown(row: Notification) -> DeliveryOut:
    delivery = DeliveryOut.model_validate(row)
    if row.channel == NotificationChannel.PUSH and row.recipient:
        delivery.recipient = f"…{row.recipient[-TOKEN_TAIL:]}"
    return delivery
