"""Held inbound e-mail: kept once per e-mail, listed for admins, released or discarded once."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import HeldEmail, HeldEmailStatus
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

NEWEST_FIRST = Keyset((HeldEmail.created_at, HeldEmail.id))

# A release that was decided but did not land (the ticket engine was down) may be tried
# again, or the e-mail discarded after all.
_UNDECIDED = or_(
    HeldEmail.status == HeldEmailStatus.HELD,
    and_(HeldEmail.status == HeldEmailStatus.RELEASED, HeldEmail.ticket_number.is_(None)),
)


async def hold(session: AsyncSession, values: dict[str, Any]) -> UUID:
    """Keep the e-mail (a row of `values`); the id of the row kept for it, new or earlier."""
    statement = (
        insert(HeldEmail)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[HeldEmail.message_key])
        .returning(HeldEmail.id)
    )
    held_id = await session.scalar(statement)
    if held_id is None:  # an earlier delivery of the same e-mail is held already
        held_id = await session.scalar(
            select(HeldEmail.id).where(HeldEmail.message_key == values["message_key"])
        )
    if held_id is None:
        raise LookupError("the held e-mail vanished while it was being kept")
    return held_id


async def get(session: AsyncSession, held_id: UUID) -> HeldEmail | None:
    return await session.get(HeldEmail, held_id, populate_existing=True)


async def list_held(
    session: AsyncSession,
    status: HeldEmailStatus | None,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[HeldEmail]:
    """Held e-mail in that status (any, for None), newest first."""
    statement = select(HeldEmail)
    if status is not None:
        statement = statement.where(HeldEmail.status == status)
    return await paginate(session, statement, NEWEST_FIRST, limit=limit, cursor=cursor)


async def decide(
    session: AsyncSession, held_id: UUID, status: HeldEmailStatus, admin_id: UUID
) -> HeldEmail | None:
    """Mark an undecided e-mail released or discarded by the admin; None if it is decided."""
    statement = (
        update(HeldEmail)
        .where(HeldEmail.id == held_id, _UNDECIDED)
        .values(status=status, decided_by=admin_id, decided_at=func.now())
        .returning(HeldEmail)
    )
    result = await session.execute(statement, execution_options={"populate_existing": True})
    return result.scalar_one_or_none()


async def landed(
    session: AsyncSession, held_id: UUID, ticket_number: int, comment_id: UUID | None
) -> HeldEmail | None:
    """Record where a released e-mail landed."""
    statement = (
        update(HeldEmail)
        .where(HeldEmail.id == held_id)
        .values(ticket_number=ticket_number, comment_id=comment_id)
        .returning(HeldEmail)
    )
    result = await session.execute(statement, execution_options={"populate_existing": True})
    return result.scalar_one_or_none()
