"""plan_outbound: who gets which channel in which words, planned once, handed on while pending."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Locale
from domain.ticket import NotificationIntent, Recipient
from persistence.models import Notification, NotificationChannel, NotificationStatus, User
from persistence.outbox import (
    RECORDED_ONLY,
    Links,
    Outbound,
    plan_outbound,
    recipients_and_people,
    wording,
)
from persistence.readmodel import apply_batch
from tests.persistence.factories import Desk, batch

LINKS = Links("https://help.example.com/")
EVERY_CHANNEL = Outbound(LINKS, frozenset({"email", "sms", "push", "slack"}))


def intent(event: str, *recipients: Recipient, **params: str) -> NotificationIntent:
    return NotificationIntent(
        key=f"ticket-1/3/{event}",
        event=event,
        recipients=list(recipients),
        subject="SLA warning: 12 min left",
        body="SLA warning: 12 min left: Printer on fire",
        urgent=True,
        params=params,
    )


async def rows_of(session: AsyncSession, user: User) -> list[Notification]:
    found = await session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.channel, Notification.recipient)
    )
    return list(found)


async def test_an_sla_warning_reaches_the_agent_by_email_and_push_in_their_language(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    agent = desk.agent
    await db_session.execute(
        update(User)
        .where(User.id == agent.id)
        .values(locale=Locale.ES, push_tokens=["phone", "tablet"])
    )
    view = await desk.ticket(db_session)
    warning = intent("sla_warning.first_response", Recipient(user_id=agent.id), minutes_left="12")
    changed = batch(view, notifications=[warning])
    await apply_batch(db_session, changed)

    dispatches = await plan_outbound(db_session, changed, EVERY_CHANNEL)

    rows = await rows_of(db_session, agent)
    external = [r for r in rows if r.channel is not NotificationChannel.IN_APP]
    assert [(r.channel, r.recipient) for r in external] == [
        (NotificationChannel.EMAIL, agent.email),
        (NotificationChannel.PUSH, "phone"),
        (NotificationChannel.PUSH, "tablet"),
    ]
    assert {d.id for d in dispatches} == {r.id for r in external}
    assert {d.kind for d in dispatches} == {"notification"}
    email = external[0]
    assert email.subject == f"[#{view.number}] Aviso de SLA: quedan 12 min"
    assert "primera respuesta" in email.body
    assert f"https://help.example.com/api/v1/tickets/{view.number}" in email.body
    assert email.status is NotificationStatus.PENDING and email.urgent
    assert len({r.idempotency_key for r in external}) == 3


async def test_preferences_turn_channels_on_and_off_and_addresses_are_needed(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    requester = desk.requester
    await db_session.execute(
        update(User)
        .where(User.id == requester.id)
        .values(
            notification_preferences={"email": False, "sms": True, "slack": True},
            phone="+34600111222",
        )
    )
    view = await desk.ticket(db_session)
    created = batch(view, notifications=[intent("created", Recipient(user_id=requester.id))])
    await apply_batch(db_session, created)

    await plan_outbound(db_session, created, EVERY_CHANNEL)

    rows = await rows_of(db_session, requester)
    # e-mail turned off, SMS turned on; Slack asked for but no Slack id: nothing to send to.
    assert [(r.channel, r.recipient) for r in rows] == [
        (NotificationChannel.IN_APP, None),
        (NotificationChannel.SMS, "+34600111222"),
    ]


async def test_a_channel_without_credentials_records_at_once_and_starts_nothing(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    resolved = batch(view, notifications=[intent("resolved", Recipient(user_id=desk.requester.id))])
    await apply_batch(db_session, resolved)

    dispatches = await plan_outbound(db_session, resolved, Outbound(LINKS, frozenset()))

    assert dispatches == []
    (email,) = [r for r in await rows_of(db_session, desk.requester) if r.channel == "email"]
    assert email.status is NotificationStatus.SENT and email.error == RECORDED_ONLY
    assert email.body.count("/rate") == 1  # the satisfaction survey link


async def test_planning_again_inserts_nothing_but_hands_on_what_is_still_pending(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    assigned = batch(view, notifications=[intent("assigned", Recipient(user_id=desk.agent.id))])
    await apply_batch(db_session, assigned)
    first = await plan_outbound(db_session, assigned, EVERY_CHANNEL)
    assert len(first) == 1  # e-mail; no push token, so no push

    again = await plan_outbound(db_session, assigned, EVERY_CHANNEL)
    assert again == first
    await db_session.execute(
        update(Notification)
        .where(Notification.id == first[0].id)
        .values(status=NotificationStatus.SENT)
    )
    assert await plan_outbound(db_session, assigned, EVERY_CHANNEL) == []
    rows = await rows_of(db_session, desk.agent)
    assert len([r for r in rows if r.channel == "email"]) == 1


async def test_a_user_mentioned_twice_in_one_comment_gets_one_email(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    mention = intent("mentioned", Recipient(user_id=desk.agent.id))
    twice = batch(view, notifications=[mention, mention])
    await apply_batch(db_session, twice)

    assert len(await plan_outbound(db_session, twice, EVERY_CHANNEL)) == 1


async def test_in_app_notifications_are_in_the_readers_language_too(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    await db_session.execute(
        update(User).where(User.id == desk.requester.id).values(locale=Locale.ES)
    )
    view = await desk.ticket(db_session)
    created = batch(
        view,
        notifications=[
            intent(
                "created", Recipient(user_id=desk.requester.id), Recipient(user_id=desk.agent.id)
            )
        ],
    )
    recipients, people = await recipients_and_people(db_session, created.notifications)
    await apply_batch(db_session, created, recipients, wording(created, people, LINKS))

    spanish = [r for r in await rows_of(db_session, desk.requester) if r.channel == "in_app"]
    english = [r for r in await rows_of(db_session, desk.agent) if r.channel == "in_app"]
    assert spanish[0].subject == f"[#{view.number}] Hemos recibido su solicitud: {view.title}"
    assert english[0].subject == f"[#{view.number}] We received your request: {view.title}"
