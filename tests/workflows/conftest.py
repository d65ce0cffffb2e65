"""Workflow tests run TicketWorkflow on the time-skipping server with a recording read model."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.enums import Priority, Role
from domain.messages import (
    Dispatch,
    PickAgentInput,
    PickAgentResult,
    ReadModelBatch,
    ReadModelOutcome,
    TicketWorkflowInput,
)
from domain.sla import MetricTargets, PolicyTerms
from domain.ticket import DepartmentTerms, HistoryEntry, TicketDraft
from domain.views import TicketView
from workflows.ticket import (
    DELIVERY_ACTIVITIES,
    PICK_AGENT_ACTIVITY,
    READ_MODEL_ACTIVITY,
    RELEASE_PICK_ACTIVITY,
    TicketWorkflow,
)

REQUESTER = uuid4()
AGENT = uuid4()
MANAGER = uuid4()

POLICY = PolicyTerms(
    name="Fast",
    targets={
        Priority.P1: MetricTargets(
            first_response=timedelta(minutes=15),
            next_response=timedelta(minutes=30),
            resolution=timedelta(hours=4),
        ),
        Priority.P3: MetricTargets(first_response=timedelta(hours=4), resolution=timedelta(days=1)),
    },
)


class RecordedReadModel:
    """Stands in for the read-model and routing activities, keeping what the workflow sent."""

    def __init__(self) -> None:
        self.batches: list[ReadModelBatch] = []
        self.free_agent: UUID | None = None  # whom routing offers; nobody by default
        self.released: list[UUID] = []
        self.plans_sends = False  # answer a send per notification, as the outbox does
        self.sends: dict[UUID, str] = {}
        self.provider_down = False
        self.delivered: list[UUID] = []

    @activity.defn(name=READ_MODEL_ACTIVITY)
    async def apply(self, batch: ReadModelBatch) -> ReadModelOutcome | None:
        self.batches.append(batch)
        if not self.plans_sends:
            return None  # what a read model before outbound delivery answered
        dispatches = []
        for intent in batch.notifications:
            send_id = uuid5(NAMESPACE_URL, intent.key)
            self.sends[send_id] = intent.event
            dispatches.append(Dispatch(kind="notification", id=send_id))
        return ReadModelOutcome(dispatches=dispatches)

    @activity.defn(name=DELIVERY_ACTIVITIES["notification"])
    async def deliver(self, send_id: UUID) -> None:
        if self.provider_down:
            raise ApplicationError("provider says no", non_retryable=True)
        self.delivered.append(send_id)

    @activity.defn(name=PICK_AGENT_ACTIVITY)
    async def pick(self, input: PickAgentInput) -> PickAgentResult:
        return PickAgentResult(agent_id=self.free_agent)

    @activity.defn(name=RELEASE_PICK_ACTIVITY)
    async def release(self, agent_id: UUID) -> None:
        self.released.append(agent_id)

    def entries(self, kind: str) -> list[HistoryEntry]:
        return [e for b in self.batches for e in b.history if e.kind == kind]

    async def written(self, kind: str, within: float = 10.0) -> list[HistoryEntry]:
        """The entries of a kind once at least one has been written.

        A query can be answered before the write its workflow task scheduled has run.
        """
        for _ in range(int(within / 0.05)):
            if found := self.entries(kind):
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind!r} entry written within {within} s")


@pytest.fixture
def read_model() -> RecordedReadModel:
    return RecordedReadModel()


class Tickets:
    """Starts tickets on the test's worker; what a test leaves running is ended with it."""

    def __init__(self, env: WorkflowEnvironment, worker: Worker) -> None:
        self.env = env
        self.worker = worker
        self.handles: list[WorkflowHandle[TicketWorkflow, TicketView]] = []

    async def start(
        self, draft: TicketDraft, continue_as_new_after: int | None = None
    ) -> WorkflowHandle[TicketWorkflow, TicketView]:
        handle = await self.env.client.start_workflow(
            TicketWorkflow.run,
            TicketWorkflowInput(draft=draft, continue_as_new_after=continue_as_new_after),
            id=f"ticket-{draft.number}",
            task_queue=self.worker.task_queue,
        )
        self.handles.append(handle)
        return handle

    async def end_all(self) -> None:
        # A ticket left running would keep firing timers and tasks into the worker's shutdown.
        for handle in self.handles:
            with contextlib.suppress(RPCError):
                await handle.terminate("test finished")


@pytest.fixture
async def tickets(
    time_skipping_env: WorkflowEnvironment, task_queue: str, read_model: RecordedReadModel
) -> AsyncIterator[Tickets]:
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[TicketWorkflow],
        activities=[read_model.apply, read_model.pick, read_model.release, read_model.deliver],
    ) as worker:
        started = Tickets(time_skipping_env, worker)
        yield started
        await started.end_all()


_numbers = iter(range(1, 1_000_000))


def make_draft(
    created_at: datetime,
    priority: Priority = Priority.P1,
    policy: PolicyTerms | None = POLICY,
    auto_close_after: timedelta = timedelta(days=3),
) -> TicketDraft:
    return TicketDraft(
        id=uuid4(),
        number=next(_numbers),
        title="Printer on fire",
        description="Smoke everywhere",
        requester_id=REQUESTER,
        requester_role=Role.USER,
        department=DepartmentTerms(
            id=uuid4(), name="IT Support", manager_id=MANAGER, auto_close_after=auto_close_after
        ),
        priority=priority,
        policy=policy,
        created_at=created_at.astimezone(UTC),
    )
