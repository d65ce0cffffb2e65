"""Notification inboxes (owner-scoped, keyset-paged) and the token stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from domain.ticket import Recipient
from persistence.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    TokenChannel,
    TokenPurpose,
)
from persistence.readmodel import apply_batch
from persistence.repositories import notifications, tokens
from tests.persistence.factories import Desk, add_user, batch, notify

LATER = datetime.now(UTC) + timedelta(days=7)


async def test_inbox_pages_through_rows_written_in_one_instant(db_session: AsyncSession) -> None:
    # One batch: every row shares created_at, so only the id tie-break keeps pages apart.
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    intents = [notify(f"{view.id}/{i}", Recipient(user_id=desk.agent.id)) for i in range(5)]
    created = await apply_batch(db_session, batch(view, notifications=intents))
    assert len({n.created_at for n in created}) == 1

    seen = []
    cursor = None
    while True:
        page = await notifications.list_for_user(db_session, desk.agent.id, limit=2, cursor=cursor)
        seen += [n.id for n in page.items]
        if not (cursor := page.next_cursor):
            break
    assert sorted(seen) == sorted(n.id for n in created)
    assert len(seen) == 5


async def test_read_and_delete_only_touch_the_owners_rows(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    intent = notify(f"{view.id}/a", Recipient(user_id=desk.agent.id))
    (mine,) = await apply_batch(db_session, batch(view, notifications=[intent]))
    stranger = await add_user(db_session)

    assert await notifications.mark_read(db_session, stranger.id, mine.id) is None
    assert not await notifications.delete_notification(db_session, stranger.id, mine.id)
    assert await notifications.unread_count(db_session, desk.agent.id) == 1

    read = await notifications.mark_read(db_session, desk.agent.id, mine.id)
    assert read is not None
    assert read.read_at is not None
    unread = await notifications.list_for_user(db_session, desk.agent.id, unread_only=True)
    assert unread.items == []
    assert await notifications.delete_notification(db_session, desk.agent.id, mine.id)
    assert (await notifications.list_for_user(db_session, desk.agent.id)).items == []


async def test_a_delivery_retried_after_a_failure_is_one_row(db_session: AsyncSession) -> None:
    user = await add_user(db_session)
    key = f"{uuid4()}/email"

    async def attempt(status: NotificationStatus, error: str | None = None) -> Notification:
        return await notifications.record_delivery(
            db_session,
            idempotency_key=key,
            user_id=user.id,
            channel=NotificationChannel.EMAIL,
            event="ticket.breached",
            subject="SLA breached",
            body="…",
            status=status,
            error=error,
        )

    failed = await attempt(NotificationStatus.FAILED, "503 from provider")
    sent = await attempt(NotificationStatus.SENT)
    late = await attempt(NotificationStatus.FAILED, "timeout")  # a retry that lost the race

    assert failed.id == sent.id == late.id
    assert (late.status, late.attempts, late.error) == (NotificationStatus.SENT, 2, None)
    assert late.sent_at is not None


async def test_refresh_rotation_revokes_and_links_the_old_token(db_session: AsyncSession) -> None:
    user = await add_user(db_session)
    first = await tokens.issue_refresh(
        db_session, jti=uuid4(), user_id=user.id, expires_at=LATER, session_id=uuid4()
    )
    second_jti = uuid4()

    second = await tokens.rotate_refresh(
        db_session, old_jti=first.id, new_jti=second_jti, expires_at=LATER
    )
    assert second is not None
    assert second.user_id == user.id
    old = await tokens.get_refresh(db_session, first.id)
    assert old is not None
    await db_session.refresh(old)
    assert old.revoked_at is not None
    assert old.replaced_by == second_jti

    # A rotated token presented again is refused.
    replay = await tokens.rotate_refresh(
        db_session, old_jti=first.id, new_jti=uuid4(), expires_at=LATER
    )
    assert replay is None
    assert await tokens.revoke_all(db_session, user.id) == 1
    assert await tokens.live_refresh_count(db_session, user.id) == 0


async def test_an_expired_refresh_token_does_not_rotate(db_session: AsyncSession) -> None:
    user = await add_user(db_session)
    past = datetime.now(UTC) - timedelta(seconds=1)
    stale = await tokens.issue_refresh(
        db_session, jti=uuid4(), user_id=user.id, expires_at=past, session_id=uuid4()
    )
    assert (
        await tokens.rotate_refresh(db_session, old_jti=stale.id, new_jti=uuid4(), expires_at=LATER)
        is None
    )


async def test_a_single_use_token_works_once_for_its_purpose(db_session: AsyncSession) -> None:
    user = await add_user(db_session)
    await tokens.issue_user_token(
        db_session,
        user_id=user.id,
        purpose=TokenPurpose.PASSWORD_RESET,
        token_hash="hash-1",
        expires_at=LATER,
    )
    verify = TokenPurpose.EMAIL_VERIFICATION
    reset = TokenPurpose.PASSWORD_RESET
    assert await tokens.consume_user_token(db_session, purpose=verify, token_hash="hash-1") is None
    used = await tokens.consume_user_token(db_session, purpose=reset, token_hash="hash-1")
    assert used is not None and used.user_id == user.id
    assert used.channel is TokenChannel.EMAIL and used.used_at is not None
    assert await tokens.consume_user_token(db_session, purpose=reset, token_hash="hash-1") is None
