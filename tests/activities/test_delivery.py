"""`deliver_notification` for real: rows in PostgreSQL, SendGrid's SDK against a local stand-in."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.channels import Channels
from activities.delivery import REJECTED, UNDELIVERED, DeliveryActivities
from domain.ticket import NotificationIntent, Recipient
from domain.views import TicketView
from persistence.models import Department, Notification, NotificationStatus, Ticket, User
from persistence.outbox import Links, Outbound, plan_outbound
from persistence.readmodel import apply_batch
from tests.persistence.factories import Desk, batch
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings
from workflows.ticket import DELIVERY_WINDOW

SENDGRID_PATH = "/v3/mail/send"
SLACK_PATH = "/api/chat.postMessage"
TEAM_CHANNEL = "C0HELPDESK"
LINKS = Links("https://help.example.com")


@pytest.fixture
def sendgrid() -> Iterator[StandIn]:
    with StandIn(default=Answer(202, headers={"X-Message-Id": "sg-message-1"})) as standin:
        yield standin


@pytest_asyncio.fixture(loop_scope="session")
async def deliveries(
    session_factory: async_sessionmaker[AsyncSession], sendgrid: StandIn
) -> AsyncIterator[DeliveryActivities]:
    settings = Settings.model_validate(
        {
            "sendgrid_api_key": "SG.test-key",
            "sendgrid_base_url": sendgrid.url,
            "mail_from": "support@help.example.com",
            "mail_domain": "help.example.com",
        }
    )
    channels = Channels(settings)
    yield DeliveryActivities(session_factory, channels, LINKS)
    await channels.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def assignment_email(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[UUID, Desk, int]]:
    """A committed ticket whose assignment planned one pending e-mail to the agent."""
    async with session_factory.begin() as session:
        desk = await Desk.create(session)
        view = await desk.ticket(session)
        assigned = batch(
            view,
            notifications=[
                NotificationIntent(
                    key=f"ticket-{view.number}/2/assigned",
                    event="assigned",
                    recipients=[Recipient(user_id=desk.agent.id)],
                    subject="Assigned",
                    body="Assigned",
                )
            ],
        )
        await apply_batch(session, assigned)
        (dispatch,) = await plan_outbound(session, assigned, Outbound(LINKS, frozenset({"email"})))
    yield dispatch.id, desk, view.number
    async with session_factory.begin() as session:
        await session.execute(delete(Ticket).where(Ticket.id == view.id))
        await session.execute(delete(Department).where(Department.id == desk.department.id))
        people = [desk.agent.id, desk.manager.id, desk.requester.id]
        await session.execute(delete(User).where(User.id.in_(people)))


async def row(sessions: async_sessionmaker[AsyncSession], notification_id: UUID) -> Notification:
    async with sessions() as session:
        found = await session.scalar(select(Notification).where(Notification.id == notification_id))
    assert found is not None
    return found


def attempt(number: int = 1, maximum: int = 200) -> ActivityEnvironment:
    """Attempt `number` of a send scheduled just now, with the workflow's day to deliver."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        attempt=number,
        retry_policy=RetryPolicy(maximum_attempts=maximum),
        scheduled_time=datetime.now(UTC),
        schedule_to_close_timeout=DELIVERY_WINDOW,
    )
    return env


async def test_a_sent_email_is_recorded_with_the_provider_id_and_never_sent_twice(
    deliveries: DeliveryActivities,
    assignment_email: tuple[UUID, Desk, int],
    sendgrid: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    notification_id, desk, number = assignment_email
    await attempt().run(deliveries.deliver, notification_id)

    (request,) = sendgrid.requests_to(SENDGRID_PATH)
    sent = request.json()
    stored = await row(session_factory, notification_id)
    assert sent["personalizations"][0]["to"] == [{"email": desk.agent.email}]
    assert sent["custom_args"] == {"idempotency_key": stored.idempotency_key}
    assert sent["subject"].startswith(f"[#{number}] Assigned to you")
    assert f"ticket-{number}@help.example.com>" in sent["headers"]["Message-ID"]
    assert request.header("Authorization") == "Bearer SG.test-key"
    assert (stored.status, stored.attempts, stored.provider_message_id) == (
        NotificationStatus.SENT,
        1,
        "sg-message-1",
    )
    assert stored.sent_at is not None and stored.error is None

    await attempt(2).run(deliveries.deliver, notification_id)  # a retry after the record
    assert len(sendgrid.requests_to(SENDGRID_PATH)) == 1
    assert (await row(session_factory, notification_id)).attempts == 1


async def test_a_provider_4xx_is_final_and_recorded(
    deliveries: DeliveryActivities,
    assignment_email: tuple[UUID, Desk, int],
    sendgrid: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    notification_id, _, _ = assignment_email
    sendgrid.enqueue(SENDGRID_PATH, Answer(400, payload={"errors": [{"message": "bad to"}]}))
    with pytest.raises(ApplicationError) as raised:
        await attempt().run(deliveries.deliver, notification_id)
    assert raised.value.non_retryable and raised.value.type == REJECTED
    stored = await row(session_factory, notification_id)
    assert stored.status is NotificationStatus.FAILED and "bad to" in (stored.error or "")
    await attempt(2).run(deliveries.deliver, notification_id)
    assert len(sendgrid.requests_to(SENDGRID_PATH)) == 1


async def test_a_5xx_then_a_429_are_retried_honouring_retry_after_then_sent(
    deliveries: DeliveryActivities,
    assignment_email: tuple[UUID, Desk, int],
    sendgrid: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    notification_id, _, _ = assignment_email
    sendgrid.enqueue(
        SENDGRID_PATH,
        Answer(500, payload={"errors": [{"message": "down"}]}),
        Answer(429, payload={"errors": [{"message": "slow down"}]}, headers={"Retry-After": "7"}),
    )
    with pytest.raises(ApplicationError) as first:
        await attempt(1).run(deliveries.deliver, notification_id)
    assert not first.value.non_retryable and first.value.type == UNDELIVERED
    assert first.value.next_retry_delay is None
    stored = await row(session_factory, notification_id)
    assert (stored.status, stored.attempts) == (NotificationStatus.PENDING, 1)
    assert "down" in (stored.error or "")

    with pytest.raises(ApplicationError) as second:
        await attempt(2).run(deliveries.deliver, notification_id)
    assert second.value.next_retry_delay == timedelta(seconds=7)

    await attempt(3).run(deliveries.deliver, notification_id)
    stored = await row(session_factory, notification_id)
    assert (stored.status, stored.attempts, stored.error) == (NotificationStatus.SENT, 3, None)
    assert len(sendgrid.requests_to(SENDGRID_PATH)) == 3


async def test_the_last_attempt_of_an_outage_marks_the_row_failed(
    deliveries: DeliveryActivities,
    assignment_email: tuple[UUID, Desk, int],
    sendgrid: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    notification_id, _, _ = assignment_email
    sendgrid.enqueue(SENDGRID_PATH, Answer(503, payload={"errors": [{"message": "down"}]}))
    with pytest.raises(ApplicationError):
        await attempt(5, maximum=5).run(deliveries.deliver, notification_id)
    assert (await row(session_factory, notification_id)).status is NotificationStatus.FAILED


async def test_an_unknown_notification_sends_nothing(
    deliveries: DeliveryActivities, sendgrid: StandIn
) -> None:
    await attempt().run(deliveries.deliver, uuid4())
    assert sendgrid.requests == []


@pytest.fixture
def slack() -> Iterator[StandIn]:
    posted = {"ok": True, "channel": TEAM_CHANNEL, "ts": "1700000000.000200"}
    with StandIn(default=Answer(payload=posted)) as standin:
        yield standin


@pytest_asyncio.fixture(loop_scope="session")
async def slack_deliveries(
    session_factory: async_sessionmaker[AsyncSession], slack: StandIn
) -> AsyncIterator[DeliveryActivities]:
    settings = Settings.model_validate(
        {"slack_bot_token": "xoxb-test-token", "slack_api_url": f"{slack.url}/api/"}
    )
    channels = Channels(settings)
    yield DeliveryActivities(session_factory, channels, LINKS)
    await channels.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def new_ticket_for_the_team(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[UUID, TicketView]]:
    """A committed new ticket whose opening planned one pending post to the team's channel."""
    to_the_team = Outbound(LINKS, frozenset({"slack"}), slack_channel=TEAM_CHANNEL)
    async with session_factory.begin() as session:
        desk = await Desk.create(session)
        view = await desk.ticket(session)
        created = NotificationIntent(
            key=f"ticket-{view.number}/1/created",
            event="created",
            recipients=[Recipient(user_id=desk.requester.id)],
            subject="Ticket received",
            body="Ticket received",
        )
        opened = batch(view, notifications=[created])
        await apply_batch(session, opened)
        # The requester has no Slack id: the one Slack row is the channel's.
        (dispatch,) = await plan_outbound(session, opened, to_the_team)
    yield dispatch.id, view
    async with session_factory.begin() as session:
        await session.execute(delete(Ticket).where(Ticket.id == view.id))
        await session.execute(delete(Department).where(Department.id == desk.department.id))
        people = [desk.agent.id, desk.manager.id, desk.requester.id]
        await session.execute(delete(User).where(User.id.in_(people)))


async def test_a_new_ticket_is_posted_to_the_slack_channel_with_its_buttons(
    slack_deliveries: DeliveryActivities,
    new_ticket_for_the_team: tuple[UUID, TicketView],
    slack: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    notification_id, view = new_ticket_for_the_team
    await attempt().run(slack_deliveries.deliver, notification_id)
    await attempt(2).run(slack_deliveries.deliver, notification_id)  # a retry after the record

    (request,) = slack.requests_to(SLACK_PATH)
    sent = request.json()
    assert sent["channel"] == TEAM_CHANNEL
    assert sent["text"] == f"[#{view.number}] New ticket: {view.title}"
    assert sent["metadata"]["event_payload"] == {
        "idempotency_key": f"ticket-{view.number}/1/created/slack-channel",
        "ticket_number": view.number,
    }
    _, context, actions = sent["blocks"]
    link = f"https://help.example.com/api/v1/tickets/{view.number}"
    assert context["elements"][0]["text"] == f"<{link}|Ticket #{view.number}>"
    buttons = [(b["action_id"], b["value"]) for b in actions["elements"]]
    assert buttons == [
        ("assign_to_me", str(view.number)),
        ("acknowledge", str(view.number)),
        ("resolve", str(view.number)),
    ]
    stored = await row(session_factory, notification_id)
    assert (stored.status, stored.user_id, stored.provider_message_id) == (
        NotificationStatus.SENT,
        None,
        f"{TEAM_CHANNEL}:1700000000.000200",
    )
