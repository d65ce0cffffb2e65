"""plan_outbound: who gets which channel in which words, planned once, handed on while pending."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from uuid import UUID

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
from security.signing import KeyRing
from tests.persistence.factories import T0, Desk, batch, breach_entry

LINKS = Links("https://help.example.com/", KeyRing.of("outbox-tests-secret-0123456789abcdef0123"))
EVERY_CHANNEL = Outbound(LINKS, frozenset({"email", "sms", "push", "slack"}))
TEAM_CHANNEL = "C0HELPDESK"
TO_THE_TEAM = Outbound(LINKS, EVERY_CHANNEL.sending, slack_channel=TEAM_CHANNEL)


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


async def channel_rows(session: AsyncSession, ticket_id: UUID) -> list[Notification]:
    """The ticket's rows that belong to no user: those for the configured Slack channel."""
    found = await session.scalars(
        select(Notification)
        .where(Notification.ticket_id == ticket_id, Notification.user_id.is_(None))
        .order_by(Notification.created_at, Notification.idempotency_key)
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
    assert email.body.count("https://help.example.com/api/v1/surveys/") == 1  # the survey link


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


async def test_a_new_ticket_goes_once_to_the_slack_channel_besides_its_requester(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    created = batch(view, notifications=[intent("created", Recipient(user_id=desk.requester.id))])
    await apply_batch(db_session, created)

    dispatches = await plan_outbound(db_session, created, TO_THE_TEAM)

    (posted,) = await channel_rows(db_session, view.id)
    assert (posted.channel, posted.recipient, posted.event) == (
        NotificationChannel.SLACK,
        TEAM_CHANNEL,
        "created",
    )
    assert posted.idempotency_key == "ticket-1/3/created/slack-channel"
    assert posted.status is NotificationStatus.PENDING
    assert posted.subject == f"[#{view.number}] New ticket: {view.title}"
    assert posted.body.endswith(f"https://help.example.com/api/v1/tickets/{view.number}")
    assert posted.id in {d.id for d in dispatches}
    # The requester still gets their own e-mail, in their own words.
    (email,) = [r for r in await rows_of(db_session, desk.requester) if r.channel == "email"]
    assert "We received your request" in email.subject


async def test_the_slack_channel_reads_its_own_language(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    created = batch(view, notifications=[intent("created", Recipient(user_id=desk.requester.id))])
    await apply_batch(db_session, created)
    in_spanish = dataclasses.replace(TO_THE_TEAM, slack_channel_locale=Locale.ES)

    await plan_outbound(db_session, created, in_spanish)

    (posted,) = await channel_rows(db_session, view.id)
    assert posted.subject == f"[#{view.number}] Nuevo ticket: {view.title}"
    assert posted.body.startswith(" ".join(view.description.split())[:20])


async def test_a_breach_goes_once_to_the_slack_channel_even_when_escalated_in_steps(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    manager = Recipient(user_id=desk.manager.id)
    breached = batch(
        view,
        history=[breach_entry(4, T0 + timedelta(hours=1))],
        notifications=[
            intent("sla_escalation.first_response.1", manager),
            intent("sla_escalation.first_response.2", Recipient(user_id=desk.agent.id)),
        ],
    )
    await apply_batch(db_session, breached)

    await plan_outbound(db_session, breached, TO_THE_TEAM)

    (posted,) = await channel_rows(db_session, view.id)
    assert posted.event == "sla_escalation.first_response.1" and posted.urgent
    assert posted.recipient == TEAM_CHANNEL
    assert posted.subject == f"[#{view.number}] SLA breached: {view.title}"
    assert "missed its first response target" in posted.body


async def test_a_plain_breach_notice_goes_to_the_slack_channel(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    breached = batch(
        view,
        history=[breach_entry(4, T0 + timedelta(hours=1))],
        notifications=[intent("sla_breached.first_response", Recipient(user_id=desk.agent.id))],
    )
    await apply_batch(db_session, breached)

    await plan_outbound(db_session, breached, TO_THE_TEAM)

    assert [r.event for r in await channel_rows(db_session, view.id)] == [
        "sla_breached.first_response"
    ]


async def test_other_events_and_later_escalation_steps_stay_out_of_the_slack_channel(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    agent = Recipient(user_id=desk.agent.id)
    quiet = batch(
        view,
        notifications=[
            intent("assigned", agent),
            intent("sla_warning.first_response", agent, minutes_left="12"),
            intent("resolved", Recipient(user_id=desk.requester.id)),
            # A step due an hour after the breach: its write records no breach of its own.
            intent("sla_escalation.first_response.3", Recipient(user_id=desk.manager.id)),
        ],
    )
    await apply_batch(db_session, quiet)

    await plan_outbound(db_session, quiet, TO_THE_TEAM)

    assert await channel_rows(db_session, view.id) == []
    assert await rows_of(db_session, desk.agent) != []  # the people were still told


async def test_without_a_slack_channel_nothing_goes_to_one(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    created = batch(view, notifications=[intent("created", Recipient(user_id=desk.requester.id))])
    await apply_batch(db_session, created)

    for unset in (None, ""):  # an empty variable counts as unset
        await plan_outbound(db_session, created, Outbound(LINKS, frozenset(), slack_channel=unset))

    assert await channel_rows(db_session, view.id) == []


async def test_a_retried_write_posts_to_the_slack_channel_once(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    created = batch(view, notifications=[intent("created", Recipient(user_id=desk.requester.id))])
    await apply_batch(db_session, created)

    first = await plan_outbound(db_session, created, TO_THE_TEAM)
    again = await plan_outbound(db_session, created, TO_THE_TEAM)

    (posted,) = await channel_rows(db_session, view.id)
    assert posted.id in {d.id for d in first} and again == first


async def test_without_a_slack_token_the_channel_message_is_recorded_only(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    created = batch(view, notifications=[intent("created", Recipient(user_id=desk.requester.id))])
    await apply_batch(db_session, created)

    no_token = Outbound(LINKS, frozenset({"email"}), slack_channel=TEAM_CHANNEL)
    dispatches = await plan_outbound(db_session, created, no_token)

    (posted,) = await channel_rows(db_session, view.id)
    assert (posted.status, posted.error) == (NotificationStatus.SENT, RECORDED_ONLY)
    assert posted.sent_at is not None and posted.id not in {d.id for d in dispatches}
