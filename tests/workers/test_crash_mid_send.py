"""A worker killed while a provider sits on a send: the send is retried by another worker.

The real `ticketflow worker` process, the dev server and a slow SendGrid stand-in. This is
the one window no provider lets anyone close (docs/notifications.md): the provider got the
message, nobody recorded it, so the retry sends it again under the same idempotency key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.enums import Priority, Role
from domain.messages import TicketWorkflowInput
from domain.sla import MetricTargets, PolicyTerms
from domain.ticket import DepartmentTerms, TicketDraft
from persistence.models import Notification, NotificationStatus
from persistence.repositories import tickets as ticket_rows
from tests.persistence.factories import Desk
from tests.support.cli import RunningCli, clean_env, until_pollers
from tests.support.payload_keys import TEST_KEYS_SETTING
from tests.support.standin import Answer, RecordedRequest, StandIn
from workflows.ticket import DELIVERY_HEARTBEAT, TicketWorkflow

SENDGRID_PATH = "/v3/mail/send"
STARTUP_S = 60
# Longer than the minute a send may take: only the heartbeat can bring the retry in time.
SLOW_PROVIDER_S = 90
CALM = PolicyTerms(
    name="Calm", targets={Priority.P3: MetricTargets(first_response=timedelta(days=1))}
)


@dataclass
class Workers:
    """`ticketflow worker` processes on a queue of their own, pointed at the stand-in."""

    client_env: WorkflowEnvironment
    env: dict[str, str]
    cwd: Path
    queue: str
    started: list[RunningCli] = field(default_factory=list)

    async def start(self) -> RunningCli:
        worker = await RunningCli.start("worker", "--dev", cwd=self.cwd, env=self.env)
        self.started.append(worker)
        async with asyncio.timeout(STARTUP_S):
            await until_pollers(self.client_env.client, self.queue, pid=worker.process.pid)
        return worker


@pytest.fixture
def sendgrid() -> Iterator[StandIn]:
    with StandIn(default=Answer(202, headers={"X-Message-Id": "sg-retry"})) as standin:
        standin.enqueue(SENDGRID_PATH, Answer(202, delay=SLOW_PROVIDER_S))
        yield standin


@pytest_asyncio.fixture(loop_scope="session")
async def workers(
    tmp_path: Path, database_url: str, dev_env: WorkflowEnvironment, sendgrid: StandIn
) -> AsyncIterator[Workers]:
    queue = f"crash-{uuid4().hex[:8]}"
    env = clean_env(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        TICKETFLOW_TASK_QUEUE=queue,
        TICKETFLOW_PAYLOAD_KEYS=TEST_KEYS_SETTING,
        SENDGRID_API_KEY="SG.crash-test",
        SENDGRID_BASE_URL=sendgrid.url,
    )
    running = Workers(dev_env, env, tmp_path, queue)
    yield running
    for worker in running.started:
        await worker.kill()


@pytest.mark.slow
async def test_a_send_cut_short_by_a_dead_worker_is_sent_again_by_the_next(
    dev_env: WorkflowEnvironment,
    session_factory: async_sessionmaker[AsyncSession],
    sendgrid: StandIn,
    workers: Workers,
) -> None:
    first = await workers.start()
    draft = await _draft(session_factory)
    await dev_env.client.start_workflow(
        TicketWorkflow.run,
        TicketWorkflowInput(draft=draft),
        id=f"ticket-{draft.number}",
        task_queue=workers.queue,
    )
    # The requester's "we received your request" e-mail reaches the provider, which sits on it.
    async with asyncio.timeout(STARTUP_S):
        [held] = await _requests(sendgrid, 1)
    first.process.kill()
    await first.process.wait()

    await workers.start()
    within = DELIVERY_HEARTBEAT + timedelta(seconds=20)  # well inside the send's minute
    async with asyncio.timeout(within.total_seconds()):
        again = (await _requests(sendgrid, 2))[1]
        row = await _sent_row(session_factory, draft)

    key = held.json()["custom_args"]["idempotency_key"]
    assert again.json()["custom_args"]["idempotency_key"] == key
    assert again.json()["personalizations"] == held.json()["personalizations"]
    assert (row.idempotency_key, row.provider_message_id) == (key, "sg-retry")
    assert row.attempts == 1  # the cut-short attempt recorded nothing: that is the window


async def _draft(sessions: async_sessionmaker[AsyncSession]) -> TicketDraft:
    async with sessions.begin() as session:
        desk = await Desk.create(session)
        number = await ticket_rows.reserve_number(session)
    return TicketDraft(
        id=uuid4(),
        number=number,
        title="Badge reader refuses my badge",
        description="Since the weekend",
        requester_id=desk.requester.id,
        requester_role=Role.USER,
        department=DepartmentTerms(id=desk.department.id, name=desk.department.name),
        priority=Priority.P3,
        policy=CALM,
        created_at=datetime.now(UTC),
    )


async def _requests(sendgrid: StandIn, count: int) -> list[RecordedRequest]:
    while len(found := sendgrid.requests_to(SENDGRID_PATH)) < count:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    return found


async def _sent_row(sessions: async_sessionmaker[AsyncSession], draft: TicketDraft) -> Notification:
    sent = select(Notification).where(
        Notification.ticket_id == draft.id,
        Notification.channel == "email",
        Notification.status == NotificationStatus.SENT,
    )
    while True:
        async with sessions() as session:
            if (row := await session.scalar(sent)) is not None:
                return row
        await asyncio.sleep(0.1)
