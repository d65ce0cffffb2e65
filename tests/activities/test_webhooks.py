"""`deliver_webhook` for real: a local receiver on 127.0.0.1, the delivery rows in PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.channels.base import MAX_RETRY_AFTER, parse_retry_after
from activities.webhooks import WebhookActivities, chat_message
from domain.outbound_addresses import AllowList
from domain.webhook_signature import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from persistence.models import DeliveryStatus, Integration, WebhookDelivery
from persistence.secrets import SecretBox
from persistence.webhooks import IntegrationFields, save_integration, store_url
from security.outbound import OutboundGuard
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings

KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()
SECRET = "receiver-shared-secret"
PATH = "/hooks/ticketflow"
PAYLOAD = {
    "event": "ticket.created",
    "occurred_at": "2026-01-05T09:00:00Z",
    "ticket": {"number": 42, "title": "Impresora en llamas 🔥"},
    "entry": {"seq": 1, "kind": "created"},
}

Plan = Callable[..., Awaitable[UUID]]


@pytest.fixture
def receiver() -> Iterator[StandIn]:
    with StandIn(default=Answer(204)) as standin:
        yield standin


# The receiver is a stand-in on 127.0.0.1: allowed here, as an operator would allow an address
# of their own. The attacks below run without it.
LOCAL_RECEIVER = "127.0.0.1/32"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        TICKETFLOW_SECRETS_KEY=KEY,  # type: ignore[arg-type]
        TICKETFLOW_OUTBOUND_ALLOW=LOCAL_RECEIVER,
    )


@pytest.fixture
def strict(session_factory: async_sessionmaker[AsyncSession]) -> WebhookActivities:
    """A worker that allows no inward address (the default)."""
    return WebhookActivities(session_factory, Settings(TICKETFLOW_SECRETS_KEY=KEY))  # type: ignore[arg-type]


@pytest.fixture
def activities(
    session_factory: async_sessionmaker[AsyncSession], settings: Settings
) -> WebhookActivities:
    return WebhookActivities(session_factory, settings)


@pytest_asyncio.fixture(loop_scope="session")
async def plan(
    session_factory: async_sessionmaker[AsyncSession], receiver: StandIn
) -> AsyncIterator[Plan]:
    """Makes an integration pointing at the receiver and one pending delivery to it.

    These rows are committed (the activity reads them in its own transactions), so they are
    deleted after the test: no later ticket change in this database plans deliveries to them.
    """
    providers: list[str] = []

    async def make(
        *,
        secret: str | None = SECRET,
        enabled: bool = True,
        url: str | None = None,
        provider: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> UUID:
        fields = IntegrationFields(
            provider=provider or f"hook-{uuid4().hex[:10]}",
            events=["ticket.created"],
            settings={},
            enabled=enabled,
        )
        stored = store_url(fields.provider, url or f"{receiver.url}{PATH}", KEY)
        encrypted = SecretBox(KEY).encrypt(secret) if secret else None
        async with session_factory.begin() as session:
            integration, _ = await save_integration(
                session, fields, url=stored, secret_encrypted=encrypted, replace_secret=True
            )
            delivery = WebhookDelivery(
                id=uuid4(),
                integration_id=integration.id,
                event="ticket.created",
                payload=payload or PAYLOAD,
            )
            session.add(delivery)
        providers.append(fields.provider)
        return delivery.id

    yield make
    async with session_factory.begin() as session:
        await session.execute(delete(Integration).where(Integration.provider.in_(providers)))


async def row(
    session_factory: async_sessionmaker[AsyncSession], delivery_id: UUID
) -> WebhookDelivery:
    async with session_factory() as session:
        return await session.get_one(WebhookDelivery, delivery_id)


async def deliver(activities: WebhookActivities, delivery_id: UUID, **info: Any) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, **info)
    await env.run(activities.deliver, delivery_id)


async def test_a_delivery_is_signed_sent_and_recorded(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan()

    await deliver(activities, delivery_id)

    [request] = receiver.requests_to(PATH)
    assert request.method == "POST"
    assert request.header("Content-Type") == "application/json"
    assert request.header(ID_HEADER) == str(delivery_id)
    assert request.json() == PAYLOAD
    assert "🔥".encode() in request.body  # compact UTF-8 JSON: the bytes receivers hash
    timestamp, signature = request.header(TIMESTAMP_HEADER), request.header(SIGNATURE_HEADER)
    assert timestamp is not None and signature is not None
    assert verify(SECRET, timestamp, request.body, signature, now=datetime.now(UTC))
    assert not verify("a-different-secret", timestamp, request.body, signature)
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status, stored.attempts) == (
        DeliveryStatus.SENT,
        204,
        1,
    )
    assert stored.delivered_at is not None and stored.error is None


async def test_a_retry_after_a_recorded_success_sends_nothing(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan()
    await deliver(activities, delivery_id)

    await deliver(activities, delivery_id, attempt=2)

    assert len(receiver.requests_to(PATH)) == 1
    assert (await row(session_factory, delivery_id)).attempts == 1


async def test_without_a_secret_nothing_is_signed(
    activities: WebhookActivities, plan: Plan, receiver: StandIn
) -> None:
    await deliver(activities, await plan(secret=None))

    [request] = receiver.requests_to(PATH)
    assert request.header(SIGNATURE_HEADER) is None
    assert request.header(TIMESTAMP_HEADER) is None
    assert request.header(ID_HEADER) is not None


async def test_a_4xx_is_final_and_recorded(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan()
    receiver.enqueue(PATH, Answer(410, body=b"this hook was removed"))

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, delivery_id)

    assert raised.value.non_retryable
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status, stored.attempts) == (
        DeliveryStatus.FAILED,
        410,
        1,
    )
    assert stored.error == "receiver answered 410"


async def test_a_5xx_is_retried_until_the_receiver_takes_it(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan()
    receiver.enqueue(PATH, Answer(503, body=b"down for maintenance"))

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, delivery_id)

    assert not raised.value.non_retryable
    assert raised.value.next_retry_delay is None  # Temporal's own backoff
    failed_once = await row(session_factory, delivery_id)
    assert (failed_once.status, failed_once.response_status, failed_once.attempts) == (
        DeliveryStatus.PENDING,
        503,
        1,
    )
    assert failed_once.error == "receiver answered 503"

    await deliver(activities, delivery_id, attempt=2)

    sent = await row(session_factory, delivery_id)
    assert (sent.status, sent.response_status, sent.attempts) == (DeliveryStatus.SENT, 204, 2)
    assert len(receiver.requests_to(PATH)) == 2


async def test_a_429_is_retried_after_the_receivers_retry_after(
    activities: WebhookActivities, plan: Plan, receiver: StandIn
) -> None:
    delivery_id = await plan()
    receiver.enqueue(PATH, Answer(429, headers={"Retry-After": "120"}))

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, delivery_id)

    assert not raised.value.non_retryable
    assert raised.value.next_retry_delay == timedelta(seconds=120)


async def test_an_unreachable_receiver_is_retried(
    activities: WebhookActivities,
    plan: Plan,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivery_id = await plan(url=f"http://127.0.0.1:{port}{PATH}")

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, delivery_id)

    assert not raised.value.non_retryable
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status, stored.attempts) == (
        DeliveryStatus.PENDING,
        None,
        1,
    )
    assert stored.error is not None and stored.error.startswith("ConnectError")


async def test_the_last_allowed_attempt_marks_the_delivery_failed(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan()
    receiver.enqueue(PATH, Answer(500))

    with pytest.raises(ApplicationError):
        await deliver(
            activities, delivery_id, attempt=5, retry_policy=RetryPolicy(maximum_attempts=5)
        )

    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.error) == (DeliveryStatus.FAILED, "receiver answered 500")


async def test_a_secret_this_worker_cannot_read_is_never_sent_unsigned(
    plan: Plan, receiver: StandIn, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    delivery_id = await plan()
    keyless = Settings(TICKETFLOW_SECRETS_KEY=None)
    another_key = Settings(TICKETFLOW_SECRETS_KEY=OTHER_KEY)  # type: ignore[arg-type]

    for settings in (keyless, another_key):
        with pytest.raises(ApplicationError, match="TICKETFLOW_SECRETS_KEY") as raised:
            await deliver(WebhookActivities(session_factory, settings), delivery_id)
        assert raised.value.non_retryable

    assert receiver.requests == []
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.attempts) == (DeliveryStatus.FAILED, 0)


async def test_a_disabled_integration_is_sent_nothing(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan(enabled=False)

    await deliver(activities, delivery_id)

    assert receiver.requests == []
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.error) == (DeliveryStatus.FAILED, "the integration is disabled")


async def test_a_delivery_that_is_gone_is_not_an_error(activities: WebhookActivities) -> None:
    await deliver(activities, uuid4())


NOW = datetime(2026, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "delay"),
    [
        ("30", timedelta(seconds=30)),
        (" 7 ", timedelta(seconds=7)),
        ("Wed, 21 Oct 2026 07:30:00 GMT", timedelta(minutes=2)),
        ("999999999999999999999", MAX_RETRY_AFTER),
        ("Thu, 22 Oct 2026 07:28:00 GMT", MAX_RETRY_AFTER),
        ("Wed, 21 Oct 2026 07:00:00 GMT", None),  # already past
        ("0", None),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_or_a_date(header: str | None, delay: timedelta | None) -> None:
    assert parse_retry_after(header, NOW) == delay


BREACH = {
    "event": "sla.breached",
    "occurred_at": "2026-01-05T09:15:00Z",
    "ticket": {"number": 42, "title": "Printer on fire"},
    "entry": {"seq": 7, "kind": "sla.breached", "summary": "SLA first response breached"},
}


def test_a_slack_integration_gets_block_kit_with_the_ticket_buttons() -> None:
    message = chat_message("slack", BREACH, "https://help.example.com/")
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"] if "action_id" in e][:3] == [
        "assign_to_me",
        "acknowledge",
        "resolve",
    ]
    assert "#42 Printer on fire" in message["text"]
    assert "https://help.example.com/api/v1/tickets/42" in json.dumps(message)


def test_a_teams_integration_gets_an_adaptive_card_and_others_the_event_itself() -> None:
    card = chat_message("teams", BREACH, "https://help.example.com")
    content = card["attachments"][0]["content"]
    assert content["type"] == "AdaptiveCard"
    assert content["body"][0]["text"] == "#42 Printer on fire"
    assert chat_message("hook-1", BREACH, "https://help.example.com") is BREACH


# -- chat integrations: the URL is a credential, read only to deliver -----------------------

TEAMS_ANSWER = (
    "Webhook message delivery failed with error: Microsoft Teams endpoint returned "
    "HTTP error {status} with ContextId tcid=0,server=msgapi-1,cv=x.0.."
)


async def test_a_slack_integrations_encrypted_url_is_decrypted_to_deliver(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan(provider="slack", payload=BREACH)
    receiver.enqueue(PATH, Answer(200, body=b"ok"))

    await deliver(activities, delivery_id)

    [request] = receiver.requests_to(PATH)
    assert "#42 Printer on fire" in request.json()["text"]
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status) == (DeliveryStatus.SENT, 200)


async def test_a_chat_url_this_worker_cannot_read_fails_clearly_and_sends_nothing(
    plan: Plan, receiver: StandIn, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    delivery_id = await plan(provider="teams", secret=None, payload=BREACH)
    keyless = Settings(TICKETFLOW_SECRETS_KEY=None)
    another_key = Settings(TICKETFLOW_SECRETS_KEY=OTHER_KEY)  # type: ignore[arg-type]

    for settings in (keyless, another_key):
        with pytest.raises(ApplicationError, match="TICKETFLOW_SECRETS_KEY") as raised:
            await deliver(WebhookActivities(session_factory, settings), delivery_id)
        assert raised.value.non_retryable
        assert raised.value.type == "WebhookUrlUnreadable"
        assert receiver.url not in str(raised.value)

    assert receiver.requests == []
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.attempts) == (DeliveryStatus.FAILED, 0)
    assert stored.error is not None and stored.error.startswith("the webhook URL cannot be read")


async def test_a_teams_delivery_is_an_adaptive_card_recorded_as_sent(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan(provider="teams", payload=BREACH)
    receiver.enqueue(PATH, Answer(202, headers={"x-ms-workflow-run-id": "run-1"}))

    await deliver(activities, delivery_id)

    [request] = receiver.requests_to(PATH)
    content = request.json()["attachments"][0]["content"]
    assert content["body"][0]["text"] == "#42 Printer on fire"
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.attempts, stored.error) == (DeliveryStatus.SENT, 1, None)
    assert stored.delivered_at is not None


async def test_a_teams_200_that_reports_a_refusal_is_failed_for_good(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan(provider="teams", payload=BREACH)
    receiver.enqueue(PATH, Answer(200, body=TEAMS_ANSWER.format(status=400).encode()))

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, delivery_id)

    assert raised.value.non_retryable
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status, stored.attempts) == (
        DeliveryStatus.FAILED,
        400,
        1,
    )
    assert stored.error == "receiver answered 400"


async def test_a_teams_200_that_reports_throttling_is_retried(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan(provider="teams", payload=BREACH)
    receiver.enqueue(PATH, Answer(200, body=TEAMS_ANSWER.format(status=429).encode()))

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, delivery_id)

    assert not raised.value.non_retryable
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status) == (DeliveryStatus.PENDING, 429)

    await deliver(activities, delivery_id, attempt=2)

    assert (await row(session_factory, delivery_id)).status is DeliveryStatus.SENT
    assert len(receiver.requests_to(PATH)) == 2


async def test_a_teams_5xx_honours_retry_after(
    activities: WebhookActivities, plan: Plan, receiver: StandIn
) -> None:
    delivery_id = await plan(provider="teams", payload=BREACH)
    receiver.enqueue(PATH, Answer(503, body=b"busy", headers={"Retry-After": "30"}))

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, delivery_id)

    assert not raised.value.non_retryable
    assert raised.value.next_retry_delay == timedelta(seconds=30)


async def test_a_retry_after_past_the_delivery_window_ends_the_row_failed(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    delivery_id = await plan()
    receiver.enqueue(PATH, Answer(429, headers={"Retry-After": "3600"}))

    with pytest.raises(ApplicationError):
        await deliver(
            activities,
            delivery_id,
            attempt=3,
            retry_policy=RetryPolicy(maximum_attempts=200),
            scheduled_time=datetime.now(UTC),
            schedule_to_close_timeout=timedelta(minutes=30),
        )

    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status) == (DeliveryStatus.FAILED, 429)


# -- attacks: a delivery aimed inward, a redirect inward, the receiver's body echoed ---------


@pytest.mark.parametrize("provider", [None, "slack", "teams"])
async def test_a_stored_url_aimed_inward_is_refused_at_send_time(
    strict: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    provider: str | None,
) -> None:
    """A URL stored before the registration check, or a name that resolves inward later."""
    delivery_id = await plan(provider=provider, payload=BREACH)

    with pytest.raises(ApplicationError) as raised:
        await deliver(strict, delivery_id)

    assert raised.value.non_retryable
    assert receiver.requests == []
    stored = await row(session_factory, delivery_id)
    assert stored.status is DeliveryStatus.FAILED
    assert stored.error is not None and "loopback" in stored.error
    assert receiver.url not in stored.error


@pytest.mark.parametrize(
    "location",
    ["http://169.254.169.254/latest/meta-data/iam/security-credentials/", "/internal"],
)
async def test_a_redirect_inward_is_not_followed_nor_echoed(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    location: str,
) -> None:
    delivery_id = await plan()
    redirect = Answer(
        302, headers={"Location": location}, body=f"Redirecting to {location}".encode()
    )
    receiver.enqueue(PATH, redirect)

    with pytest.raises(ApplicationError):
        await deliver(activities, delivery_id)

    assert [r.path for r in receiver.requests] == [PATH]
    stored = await row(session_factory, delivery_id)
    assert (stored.status, stored.response_status) == (DeliveryStatus.FAILED, 302)
    assert stored.error == "receiver answered 302 (redirects are not followed)"


SECRET_BODY = b"Traceback: psycopg.OperationalError: password=hunter2 host=10.1.2.3"


@pytest.mark.parametrize(("provider", "status"), [(None, 500), (None, 403), ("teams", 400)])
async def test_the_receivers_answer_is_never_echoed_into_the_delivery_log(
    activities: WebhookActivities,
    plan: Plan,
    receiver: StandIn,
    session_factory: async_sessionmaker[AsyncSession],
    provider: str | None,
    status: int,
) -> None:
    delivery_id = await plan(provider=provider, payload=BREACH)
    receiver.enqueue(PATH, Answer(status, body=SECRET_BODY))

    with pytest.raises(ApplicationError):
        await deliver(activities, delivery_id)

    stored = await row(session_factory, delivery_id)
    assert stored.response_status == status
    assert stored.error == f"receiver answered {status}"


async def test_a_name_that_resolves_inward_is_refused_and_one_allowed_is_reached_by_name(
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    plan: Plan,
    receiver: StandIn,
) -> None:
    """The worker resolves the receiver's name itself: here with a resolver the test controls."""
    port = receiver.url.rsplit(":", 1)[1]
    answers = {"hooks.corp.example": ["10.0.0.1"], "receiver.corp.example": ["127.0.0.1"]}

    async def dns(host: str, _: int) -> list[str]:
        return answers[host]

    guard = OutboundGuard(AllowList.parse(LOCAL_RECEIVER), resolver=dns)
    activities = WebhookActivities(session_factory, settings, guard)
    inward = await plan(url=f"http://hooks.corp.example:{port}{PATH}")
    allowed = await plan(url=f"http://receiver.corp.example:{port}{PATH}")

    with pytest.raises(ApplicationError) as raised:
        await deliver(activities, inward)
    await deliver(activities, allowed)

    assert raised.value.non_retryable and raised.value.type == "WebhookAddressRefused"
    refused = await row(session_factory, inward)
    assert refused.error == (
        "not sent: hooks.corp.example resolves to a private address (RFC 1918); "
        "receivers must be publicly reachable (TICKETFLOW_OUTBOUND_ALLOW)"
    )
    [request] = receiver.requests_to(PATH)
    assert request.header("Host") == f"receiver.corp.example:{port}"
    assert (await row(session_factory, allowed)).status is DeliveryStatus.SENT
