"""The real worker on the dev server, writing the real read model: a whole ticket lifecycle.

Set TICKETFLOW_RECORD_HISTORY=<name> to save the lifecycle's history into the replay corpus
as tests/workflows/histories/<name>.json, as is done whenever the workflow changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import FormData
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.readmodel import ReadModelActivities
from activities.routing import RoutingActivities
from api.services.inbound.mail import read_sendgrid_form
from domain.enums import Availability, Priority, Role, TicketStatus
from domain.messages import (
    AssignInput,
    AttachInput,
    CommentInput,
    EditInput,
    ExternalReply,
    ReadModelBatch,
    ReadModelOutcome,
    ResolveInput,
    SetPriorityInput,
    SetStatusInput,
    TicketWorkflowInput,
)
from domain.rules import Rule
from domain.sla import EscalationStep, MetricTargets, PolicyTerms
from domain.ticket import DepartmentTerms, TicketDraft
from domain.views import TicketView
from domain.webhook_signature import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from persistence.db import create_engine
from persistence.db import session_factory as session_factory_of
from persistence.models import (
    AuditLog,
    Integration,
    Notification,
    SlaHistory,
    Ticket,
    TicketComment,
    User,
)
from persistence.outbox import Links, Outbound
from persistence.repositories import tickets as ticket_rows
from persistence.repositories import users
from persistence.secrets import SecretBox
from persistence.webhooks import IntegrationFields, save_integration, store_url
from tests.persistence.factories import Desk
from tests.support.histories import replays_and_is_kept
from tests.support.standin import Answer, StandIn
from ticketflow.settings import Settings
from workers.main import WORKFLOW_RUNNER, build_worker
from workflows.search_attributes import TICKET_SLA_STATE
from workflows.ticket import READ_MODEL_ACTIVITY, TicketWorkflow

SENDGRID_PATH = "/v3/mail/send"
HOOK_PATH = "/hooks/desk"
HOOK_SECRET = "lifecycle-hook-secret"
HOOKED_EVENTS = ("ticket.created", "sla.breached", "ticket.resolved", "ticket.closed")
SECRETS_KEY = Fernet.generate_key().decode()
FAST = PolicyTerms(
    name="Seconds",
    escalation=(
        EscalationStep(notify=["assignee", "manager"]),
        EscalationStep(after=timedelta(seconds=1), notify=["admins", "manager"]),
    ),
    targets={
        Priority.P1: MetricTargets(
            first_response=timedelta(seconds=2),
            next_response=timedelta(minutes=1),
            resolution=timedelta(minutes=5),
        ),
        Priority.P2: MetricTargets(
            first_response=timedelta(minutes=1),
            next_response=timedelta(minutes=2),
            resolution=timedelta(minutes=10),
        ),
    },
)


DOWNGRADE_TAG = Rule.model_validate(
    {
        "name": "lowered to P2 → tag",
        "trigger": "updated",
        "conditions": {"field": "priority", "operator": "changed_to", "value": "P2"},
        "actions": [{"type": "add_tag", "tag": "downgraded"}],
    }
)


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polling another process's writes
            await asyncio.sleep(0.1)


async def open_desk(sessions: async_sessionmaker[AsyncSession]) -> Desk:
    async with sessions.begin() as session:
        return await Desk.create(session)


async def draft_for(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, auto_close: timedelta
) -> TicketDraft:
    async with sessions.begin() as session:
        number = await ticket_rows.reserve_number(session)
    return TicketDraft(
        id=uuid4(),
        number=number,
        title="VPN drops every ten minutes",
        description="Since this morning",
        requester_id=desk.requester.id,
        requester_role=Role.USER,
        department=DepartmentTerms(
            id=desk.department.id,
            name=desk.department.name,
            manager_id=desk.manager.id,
            auto_close_after=auto_close,
        ),
        priority=Priority.P1,
        policy=FAST,
        created_at=datetime.now(UTC),
    )


async def count(sessions: async_sessionmaker[AsyncSession], stmt: object) -> int:
    async with sessions() as session:
        return len((await session.execute(stmt)).all())  # type: ignore[call-overload]


@pytest.fixture
def sendgrid() -> Iterator[StandIn]:
    with StandIn(default=Answer(202, headers={"X-Message-Id": "sg-1"})) as standin:
        yield standin


@pytest.fixture
def receiver() -> Iterator[StandIn]:
    """An outbound-webhook receiver that takes everything."""
    with StandIn(default=Answer(204)) as standin:
        yield standin


@pytest.fixture
def settings(task_queue: str, sendgrid: StandIn) -> Settings:
    return Settings(
        task_queue=task_queue,
        sendgrid_api_key=SecretStr("SG.worker-test"),
        sendgrid_base_url=sendgrid.url,
        TICKETFLOW_SECRETS_KEY=SecretStr(SECRETS_KEY),
        # The webhook receiver is a stand-in on 127.0.0.1, allowed as an operator would.
        TICKETFLOW_OUTBOUND_ALLOW="127.0.0.1/32",
    )


@pytest_asyncio.fixture(loop_scope="session")
async def subscribed(
    session_factory: async_sessionmaker[AsyncSession], receiver: StandIn
) -> AsyncIterator[str]:
    """A signed webhook integration on the receiver, for the ticket events the lifecycle
    raises; committed (the worker reads it), so removed after the test."""
    fields = IntegrationFields(
        provider=f"hook-{uuid4().hex[:10]}", events=list(HOOKED_EVENTS), settings={}
    )
    url = store_url(fields.provider, f"{receiver.url}{HOOK_PATH}", SECRETS_KEY)
    secret = SecretBox(SECRETS_KEY).encrypt(HOOK_SECRET)
    async with session_factory.begin() as session:
        await save_integration(
            session, fields, url=url, secret_encrypted=secret, replace_secret=True
        )
    yield fields.provider
    async with session_factory.begin() as session:
        await session.execute(delete(Integration).where(Integration.provider == fields.provider))


async def test_whole_lifecycle_lands_in_the_read_model(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
    sendgrid: StandIn,
    receiver: StandIn,
    subscribed: str,
) -> None:
    desk = await open_desk(session_factory)
    draft = await draft_for(session_factory, desk, auto_close=timedelta(seconds=3))
    client = dev_env.client
    async with build_worker(client, session_factory, settings):
        handle: WorkflowHandle[TicketWorkflow, TicketView] = await client.start_workflow(
            TicketWorkflow.run,
            TicketWorkflowInput(draft=draft, rules=[DOWNGRADE_TAG]),
            id=f"ticket-{draft.number}",
            task_queue=settings.task_queue,
        )

        # nobody answers for two seconds: the first-response SLA breaches and escalates
        breach_q = select(SlaHistory).where(
            SlaHistory.ticket_id == draft.id, SlaHistory.event == "breached"
        )
        await eventually(lambda: _exists(session_factory, breach_q))
        async with session_factory() as session:
            breach = (await session.execute(breach_q)).scalar_one()
        deadline = draft.created_at + timedelta(seconds=2)
        assert breach.occurred_at == deadline
        assert timedelta(0) <= breach.recorded_at - deadline < timedelta(seconds=1)
        # the chain: at the breach the manager hears (no assignee yet), a second later again
        escalated = select(Notification).where(
            Notification.ticket_id == draft.id,
            Notification.event.startswith("sla_escalation"),
            Notification.user_id == desk.manager.id,
        )
        sent_by_email = escalated.where(
            Notification.channel == "email", Notification.status == "sent"
        )
        await eventually(lambda: _at_least(session_factory, sent_by_email, 2))
        async with session_factory() as session:
            alarms = list(await session.scalars(escalated))
        assert sorted(a.channel for a in alarms) == ["email", "email", "in_app", "in_app"]
        assert {a.provider_message_id for a in alarms if a.channel == "email"} == {"sg-1"}
        keys = [
            r.json()["custom_args"]["idempotency_key"]
            for r in sendgrid.requests_to(SENDGRID_PATH)
            if r.json()["personalizations"][0]["to"][0]["email"] == desk.manager.email
        ]
        assert sorted(k.split("/")[2] for k in keys if "escalation" in k) == [
            "sla_escalation.first_response.1",
            "sla_escalation.first_response.2",
        ]
        described = await handle.describe()
        assert described.typed_search_attributes.get(TICKET_SLA_STATE) == "breached"

        agent = desk.agent.id
        await handle.execute_update(TicketWorkflow.assign, AssignInput(assignee_id=agent))
        await handle.execute_update(
            TicketWorkflow.edit,
            EditInput(title="VPN drops every ten minutes on Wi-Fi", tags=["vpn"], actor_id=agent),
        )
        await handle.execute_update(
            TicketWorkflow.attach,
            AttachInput(
                attachment_id=uuid4(),
                filename="vpn.log",
                size_bytes=2048,
                actor_id=desk.requester.id,
            ),
        )
        await handle.execute_update(
            TicketWorkflow.comment, CommentInput(author_id=agent, body="Looking into it")
        )
        await _the_requester_gets_the_reply_by_email(session_factory, sendgrid, settings, draft)
        await handle.execute_update(
            TicketWorkflow.comment,
            CommentInput(
                author_id=agent,
                body="Checked the logs, @manager: the tunnel resets",
                private=True,
                mentions=[desk.manager.id, desk.requester.id],
            ),
        )
        await handle.execute_update(
            TicketWorkflow.set_status, SetStatusInput(status=TicketStatus.ON_HOLD, actor_id=agent)
        )
        await handle.signal(
            TicketWorkflow.external_reply,
            ExternalReply(author_id=desk.requester.id, body="Here is the log you asked for"),
        )
        await handle.execute_update(
            TicketWorkflow.set_priority, SetPriorityInput(priority=Priority.P2, actor_id=agent)
        )
        await handle.execute_update(
            TicketWorkflow.resolve, ResolveInput(solution="New VPN profile", actor_id=agent)
        )
        await handle.signal(
            TicketWorkflow.external_reply,
            ExternalReply(author_id=desk.requester.id, body="Dropped again"),
        )
        await handle.execute_update(
            TicketWorkflow.resolve, ResolveInput(solution="Replaced the router", actor_id=agent)
        )

        # the requester stays silent: the ticket closes itself after the department's delay
        closed_q = select(Ticket).where(Ticket.id == draft.id, Ticket.status == "closed")
        await eventually(lambda: _exists(session_factory, closed_q), within=15)
        async with session_factory() as session:
            row = (await session.execute(closed_q)).scalar_one()
            comments = (
                (
                    await session.execute(
                        select(TicketComment).where(TicketComment.ticket_id == draft.id)
                    )
                )
                .scalars()
                .all()
            )
            audit = (
                (
                    await session.execute(
                        select(AuditLog)
                        .where(AuditLog.entity_id == draft.id)
                        .order_by(AuditLog.occurred_at)
                    )
                )
                .scalars()
                .all()
            )
        assert row.closed_for_inactivity and row.assignee_id == agent
        assert row.priority == "P2" and row.first_response_at is not None
        assert row.tags == ["vpn", "downgraded"]
        assert row.title == "VPN drops every ten minutes on Wi-Fi"
        assert len(comments) == 4 and sum(c.private for c in comments) == 1
        kinds = [a.after["kind"] for a in audit if a.after]
        assert kinds.count("reopened") == 1 and kinds.count("resolved") == 2
        assert kinds.count("edited") == 1 and kinds.count("attached") == 1
        assert kinds[-1] == "closed"
        mentioned = select(Notification.user_id).where(
            Notification.ticket_id == draft.id, Notification.event == "mentioned"
        )
        async with session_factory() as session:
            # the private note's mention reached the manager, never the requester
            assert set(await session.scalars(mentioned)) == {desk.manager.id}
        await _the_integration_heard_of_it_signed(receiver, draft)
        await replays_and_is_kept(handle)


async def _the_requester_gets_the_reply_by_email(
    sessions: async_sessionmaker[AsyncSession],
    sendgrid: StandIn,
    settings: Settings,
    draft: TicketDraft,
) -> None:
    """The agent's public reply reaches the requester by e-mail, its text in the message,
    threaded so that answering it lands on the ticket."""
    sent = select(Notification).where(
        Notification.ticket_id == draft.id,
        Notification.user_id == draft.requester_id,
        Notification.event == "replied",
        Notification.channel == "email",
        Notification.status == "sent",
    )
    await eventually(lambda: _exists(sessions, sent))
    [mail] = [
        r.json()
        for r in sendgrid.requests_to(SENDGRID_PATH)
        if "/replied/" in r.json()["custom_args"]["idempotency_key"]
    ]
    assert mail["subject"] == f"[#{draft.number}] VPN drops every ten minutes on Wi-Fi"
    assert "Looking into it" in mail["content"][0]["value"]
    answer = await read_sendgrid_form(
        FormData(
            {
                "from": mail["personalizations"][0]["to"][0]["email"],
                "subject": f"Re: {mail['subject']}",
                "text": "Thanks, trying it now",
                "headers": f"In-Reply-To: {mail['headers']['Message-ID']}\n",
            }
        )
    )
    assert answer.thread_numbers(settings.mail_domain) == [draft.number]


async def _the_integration_heard_of_it_signed(receiver: StandIn, draft: TicketDraft) -> None:
    """Each subscribed event reached the receiver once, as signed JSON about this ticket."""
    wanted = {"ticket.created", "sla.breached", "ticket.resolved", "ticket.closed"}

    async def all_arrived() -> bool:
        return wanted <= {r.json()["event"] for r in receiver.requests_to(HOOK_PATH)}

    await eventually(all_arrived)
    deliveries = receiver.requests_to(HOOK_PATH)
    for request in deliveries:
        assert request.json()["ticket"]["number"] == draft.number
        timestamp, signature = request.header(TIMESTAMP_HEADER), request.header(SIGNATURE_HEADER)
        assert timestamp and signature
        assert verify(HOOK_SECRET, timestamp, request.body, signature)
    events = [r.json()["event"] for r in deliveries]
    assert events.count("ticket.created") == 1 and events.count("ticket.resolved") == 2
    ids = [r.header(ID_HEADER) for r in deliveries]
    assert len(set(ids)) == len(ids)  # none delivered twice


async def _exists(sessions: async_sessionmaker[AsyncSession], stmt: object) -> bool:
    return await count(sessions, stmt) > 0


async def _at_least(sessions: async_sessionmaker[AsyncSession], stmt: object, n: int) -> bool:
    return await count(sessions, stmt) >= n


async def test_a_new_ticket_is_routed_to_an_online_agent(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    desk = await open_desk(session_factory)
    async with session_factory.begin() as session:
        await users.update_availability(session, desk.agent.id, Availability.ONLINE)
    draft = await draft_for(session_factory, desk, auto_close=timedelta(days=3))
    async with build_worker(dev_env.client, session_factory, settings):
        handle = await dev_env.client.start_workflow(
            TicketWorkflow.run,
            TicketWorkflowInput(draft=draft),
            id=f"ticket-{draft.number}",
            task_queue=settings.task_queue,
        )
        routed = select(Ticket).where(Ticket.id == draft.id, Ticket.assignee_id == desk.agent.id)
        await eventually(lambda: _exists(session_factory, routed))
        async with session_factory() as session:
            agent = await session.get(User, desk.agent.id)
        assert agent is not None and agent.current_load == 1
        await handle.terminate("test finished")


SLOW_WRITE_S = 2.0


async def test_a_deadline_armed_after_a_slow_write_still_fires_on_time(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """The first task writes the read model (slowly here) before its timer starts: the breach
    must still land at the deadline, not a write's length after it."""
    desk = await open_desk(session_factory)
    draft = await draft_for(session_factory, desk, auto_close=timedelta(days=3))
    five_seconds = PolicyTerms(
        name="Five seconds, no warnings",
        targets={Priority.P1: MetricTargets(first_response=timedelta(seconds=5))},
        warn_at=(),
    )
    draft = draft.model_copy(update={"policy": five_seconds})
    outbound = Outbound(Links(settings.public_url), frozenset())
    written = ReadModelActivities(session_factory, outbound)

    @activity.defn(name=READ_MODEL_ACTIVITY)
    async def slow_apply(batch: ReadModelBatch) -> ReadModelOutcome:
        await asyncio.sleep(SLOW_WRITE_S)
        return await written.apply(batch)

    routing = RoutingActivities(session_factory)
    async with Worker(
        dev_env.client,
        task_queue=settings.task_queue,
        workflows=[TicketWorkflow],
        activities=[slow_apply, routing.pick, routing.release],
        workflow_runner=WORKFLOW_RUNNER,
    ):
        handle = await dev_env.client.start_workflow(
            TicketWorkflow.run,
            TicketWorkflowInput(draft=draft),
            id=f"ticket-{draft.number}",
            task_queue=settings.task_queue,
        )
        breach_q = select(SlaHistory).where(
            SlaHistory.ticket_id == draft.id, SlaHistory.event == "breached"
        )
        await eventually(lambda: _exists(session_factory, breach_q), within=15)
        async with session_factory() as session:
            breach = (await session.execute(breach_q)).scalar_one()
        deadline = draft.created_at + timedelta(seconds=5)
        assert breach.occurred_at == deadline
        # The breach's own write takes SLOW_WRITE_S; a timer started a write late would add
        # as much again.
        late = (breach.recorded_at - deadline).total_seconds()
        assert SLOW_WRITE_S <= late < SLOW_WRITE_S + 1.0
        await handle.terminate("test finished")


async def test_a_write_on_a_connection_the_database_dropped_lands_on_retry(
    dev_env: WorkflowEnvironment,
    database_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    # As `ticketflow worker` runs it: no ping on checkout, so the pool hands out the broken
    # connection and the read-model activity's retry has to recover.
    engine = create_engine(database_url, pool_pre_ping=False, pool_size=1, max_overflow=0)
    worker_sessions = session_factory_of(engine)
    desk = await open_desk(session_factory)
    draft = await draft_for(session_factory, desk, auto_close=timedelta(days=1))
    client = dev_env.client
    try:
        async with build_worker(client, worker_sessions, settings):
            handle: WorkflowHandle[TicketWorkflow, TicketView] = await client.start_workflow(
                TicketWorkflow.run,
                TicketWorkflowInput(draft=draft),
                id=f"ticket-{draft.number}",
                task_queue=settings.task_queue,
            )
            opened = select(Ticket).where(Ticket.id == draft.id)
            await eventually(lambda: _exists(session_factory, opened))

            async with engine.connect() as connection:  # the pool's only connection
                backend = await connection.scalar(text("SELECT pg_backend_pid()"))
            async with session_factory.begin() as session:
                await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

            await handle.execute_update(
                TicketWorkflow.set_priority, SetPriorityInput(priority=Priority.P3)
            )
            lowered = opened.where(Ticket.priority == Priority.P3)
            await eventually(lambda: _exists(session_factory, lowered))
            await handle.terminate("test finished")
    finally:
        await engine.dispose()
