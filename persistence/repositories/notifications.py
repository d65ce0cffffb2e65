"""A user's notifications (always scoped to their owner), and delivery records."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Notification, NotificationChannel, NotificationStatus
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

NEWEST_FIRST = Keyset((Notification.created_at, Notification.id))


async def list_for_user(
    session: AsyncSession,
    user_id: UUID,
    *,
    unread_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Notification]:
    """The user's in-app inbox, newest first."""
    statement = select(Notification).where(
        Notification.user_id == user_id, Notification.channel == NotificationChannel.IN_APP
    )
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return await paginate(session, statement, NEWEST_FIRST, limit=limit, cursor=cursor)


async def unread_count(session: AsyncSession, user_id: UUID) -> int:
    statement = select(func.count()).where(
        Notification.user_id == user_id,
        Notification.channel == NotificationChannel.IN_APP,
        Notification.read_at.is_(None),
    )
    return int(await session.scalar(statement) or 0)


async def mark_read(
    session: AsyncSession, user_id: UUID, notification_id: UUID
) -> Notification | None:
    """Mark one of the user's notifications read (the first read time is kept)."""
    statement = (
        update(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
        .values(read_at=func.coalesce(Notification.read_at, func.now()))
        .returning(Notification)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def mark_all_read(session: AsyncSession, user_id: UUID) -> int:
    statement = (
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=func.now())
        .returning(Notification.id)
    )
    return len((await session.scalars(statement)).all())


async def delete_notification(session: AsyncSession, user_id: UUID, notification_id: UUID) -> bool:
    statement = (
        delete(Notification)
        .where(Notification.id == notification_id, Notification.user_id == user_id)
        .returning(Notification.id)
    )
    return await session.scalar(statement) is not None


async def record_delivery(
    session: AsyncSession,
    *,
    idempotency_key: str,
    user_id: UUID,
    channel: NotificationChannel,
    event: str,
    subject: str,
    body: str,
    status: NotificationStatus,
    ticket_id: UUID | None = None,
    urgent: bool = False,
    error: str | None = None,
) -> Notification:
    """Record one attempt to send on a provider channel; retries update the same row.

    A row already `sent` stays sent: a late retry of a delivered message changes nothing.
    """
    sent_at = func.now() if status is NotificationStatus.SENT else None
    statement = insert(Notification).values(
        idempotency_key=idempotency_key,
        user_id=user_id,
        ticket_id=ticket_id,
        channel=channel,
        event=event,
        subject=subject,
        body=body,
        urgent=urgent,
        status=status,
        attempts=1,
        error=error,
        sent_at=sent_at,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[Notification.idempotency_key],
        set_={
            "status": statement.excluded.status,
            "attempts": Notification.attempts + 1,
            "error": statement.excluded.error,
            "sent_at": statement.excluded.sent_at,
        },
        where=Notification.status != NotificationStatus.SENT,
    )
    found: Notification | None = await session.scalar(
        statement.returning(Notification), execution_options={"populate_existing": True}
    )
    if found is None:  # already sent: the update was skipped
        found = await session.scalar(
            select(Notification).where(Notification.idempotency_key == idempotency_key)
        )
    assert found is not None
    return found
