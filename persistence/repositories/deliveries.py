"""A ticket's notification rows on every channel: the record of what was sent, and how it went."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Notification
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

NEWEST_FIRST = Keyset((Notification.created_at, Notification.id))


async def list_for_ticket(
    session: AsyncSession, ticket_id: UUID, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Notification]:
    """Every notification row of the ticket, whoever it was for, newest first."""
    statement = select(Notification).where(Notification.ticket_id == ticket_id)
    return await paginate(session, statement, NEWEST_FIRST, limit=limit, cursor=cursor)
