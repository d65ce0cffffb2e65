"""Replies and mentions as their readers get them: the requester's e-mail, staff-only notes."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Locale, Role
from domain.ticket import NotificationIntent, Recipient
from persistence.models import Notification, NotificationChannel, NotificationStatus, User
from persistence.outbox import Links, Outbound, plan_outbound, recipients_and_people, wording
from persistence.readmodel import apply_batch
from tests.persistence.factories import Desk, add_user, batch

LINKS = Links("https://help.example.com/")
SENDS_EMAIL = Outbound(LINKS, frozenset({"email"}))
REPLY = "Please restart the router and tell us if the light turns green."


def replied(requester: User) -> NotificationIntent:
    # As the workflow writes it: the reply's text is the intent's body.
    return NotificationIntent(
        key="ticket-1/5/replied",
        event="replied",
        recipients=[Recipient(user_id=requester.id)],
        subject="New reply on ticket #1",
        body=REPLY,
    )


def mentioned(*users: User, private: bool, seq: int = 6) -> NotificationIntent:
    return NotificationIntent(
        key=f"ticket-1/{seq}/mentioned",
        event="mentioned",
        recipients=[Recipient(user_id=u.id, staff_only=private) for u in users],
        subject="You were mentioned on ticket #1",
        body="You were mentioned on ticket #1: Printer on fire",
    )


async def rows_for(session: AsyncSession, user: User) -> list[Notification]:
    found = await session.scalars(select(Notification).where(Notification.user_id == user.id))
    return sorted(found, key=lambda row: row.channel.value)


async def test_an_agent_reply_reaches_the_requester_by_email_with_its_text(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    requester = desk.requester
    await db_session.execute(update(User).where(User.id == requester.id).values(locale=Locale.ES))
    view = await desk.ticket(db_session)
    change = batch(view, notifications=[replied(requester)])
    resolved = await recipients_and_people(db_session, change.notifications)
    await apply_batch(db_session, change, resolved[0], wording(change, resolved[1], LINKS))

    dispatches = await plan_outbound(db_session, change, SENDS_EMAIL, resolved)

    email, in_app = await rows_for(db_session, requester)
    assert [email.channel, in_app.channel] == [
        NotificationChannel.EMAIL,
        NotificationChannel.IN_APP,
    ]
    assert [d.id for d in dispatches] == [email.id]
    assert (email.status, email.recipient) == (NotificationStatus.PENDING, requester.email)
    # the ticket's own subject, tagged: a reply to this e-mail threads back into the ticket
    assert email.subject == in_app.subject == f"[#{view.number}] {view.title}"
    assert REPLY in email.body and REPLY in in_app.body
    assert "Hay una nueva respuesta" in email.body


async def test_a_private_note_mention_reaches_only_those_who_are_staff(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    admin = await add_user(db_session, Role.ADMIN)
    vip = await add_user(db_session, Role.VIP_USER)
    view = await desk.ticket(db_session)
    note = mentioned(desk.requester, desk.agent, vip, admin, private=True)
    public_reply = mentioned(vip, private=False, seq=7)
    change = batch(view, notifications=[note, public_reply])

    created = await apply_batch(db_session, change)
    await plan_outbound(db_session, change, SENDS_EMAIL)

    assert [n.user_id for n in created] == [desk.agent.id, admin.id, vip.id]
    assert await rows_for(db_session, desk.requester) == []
    # the customer hears of the public mention only, never of the private note
    vip_keys = {r.idempotency_key for r in await rows_for(db_session, vip)}
    assert vip_keys and all(k.startswith(f"{public_reply.key}/") for k in vip_keys)
    assert [r.channel for r in await rows_for(db_session, desk.agent)] == [
        NotificationChannel.EMAIL,
        NotificationChannel.IN_APP,
    ]
