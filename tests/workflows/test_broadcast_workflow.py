"""BroadcastWorkflow on the time-skipping server, with a stand-in for its activity.

Set TICKETFLOW_RECORD_HISTORY=<name> to save a broadcast history into the replay corpus.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from domain.broadcasts import BROADCAST_ACTIVITY, Broadcast, BroadcastRun, BroadcastSent
from tests.support.histories import replays_and_is_kept
from workflows import broadcast
from workflows.broadcast import IDLE, BroadcastWorkflow


class Batches:
    """Stands in for the broadcast activity: counts the batches, and can hold or refuse one."""

    def __init__(self) -> None:
        self.sent: list[Broadcast] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = asyncio.Event()
        self.refuse_next = False

    @activity.defn(name=BROADCAST_ACTIVITY)
    async def broadcast(self, kind: Broadcast) -> BroadcastSent:
        self.started.set()
        await self.gate.wait()
        if self.refuse_next:
            self.refuse_next = False
            raise ApplicationError("bad query", type="BatchRefused", non_retryable=True)
        self.sent.append(kind)
        return BroadcastSent(job_id=f"job-{len(self.sent)}", signalled=3, failed=0)


@pytest.fixture
def batches() -> Batches:
    return Batches()


@pytest_asyncio.fixture(loop_scope="session")
async def worker(
    time_skipping_env: WorkflowEnvironment, task_queue: str, batches: Batches
) -> AsyncIterator[Worker]:
    # Unsandboxed, so a test can shorten the run through the module's constant.
    async with Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[BroadcastWorkflow],
        activities=[batches.broadcast],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ) as running:
        yield running


async def announce(env: WorkflowEnvironment, task_queue: str) -> WorkflowHandle[Any, int]:
    """As the API does after storing a change: signal-with-start."""
    return await env.client.start_workflow(
        BroadcastWorkflow.run,
        BroadcastRun(kind=Broadcast.RULES),
        id=Broadcast.RULES.workflow_id(task_queue),
        task_queue=task_queue,
        start_signal="changed",
    )


async def test_changes_made_while_a_broadcast_is_on_its_way_fold_into_the_next(
    time_skipping_env: WorkflowEnvironment, task_queue: str, worker: Worker, batches: Batches
) -> None:
    batches.gate.clear()
    handle = await announce(time_skipping_env, task_queue)
    await batches.started.wait()
    for _ in range(3):  # three more changes while the first batch is out
        await announce(time_skipping_env, task_queue)
    assert not await handle.query(BroadcastWorkflow.idle)
    batches.gate.set()

    assert await handle.result() == 2  # the first, then one for the three; then idle
    assert batches.sent == [Broadcast.RULES, Broadcast.RULES]
    assert await handle.query(BroadcastWorkflow.idle)

    await replays_and_is_kept(handle)


async def test_an_idle_broadcaster_ends_and_the_next_change_starts_it_again(
    time_skipping_env: WorkflowEnvironment, task_queue: str, worker: Worker, batches: Batches
) -> None:
    first = await announce(time_skipping_env, task_queue)
    started = await time_skipping_env.get_current_time()
    assert await first.result() == 1
    assert await time_skipping_env.get_current_time() - started >= IDLE

    second = await announce(time_skipping_env, task_queue)
    assert second.result_run_id != first.result_run_id
    assert await second.result() == 1
    assert len(batches.sent) == 2


async def test_a_batch_refused_for_good_is_skipped_and_the_next_change_is_sent(
    time_skipping_env: WorkflowEnvironment, task_queue: str, worker: Worker, batches: Batches
) -> None:
    batches.refuse_next = True
    batches.gate.clear()
    handle = await announce(time_skipping_env, task_queue)
    await batches.started.wait()
    await announce(time_skipping_env, task_queue)
    batches.gate.set()

    assert await handle.result() == 1
    assert batches.sent == [Broadcast.RULES]


async def test_a_long_run_continues_as_new_with_the_change_still_to_send(
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    worker: Worker,
    batches: Batches,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(broadcast, "BROADCASTS_PER_RUN", 1)
    batches.gate.clear()
    handle = await announce(time_skipping_env, task_queue)
    await batches.started.wait()
    await announce(time_skipping_env, task_queue)  # arrives during the run's only broadcast
    batches.gate.set()

    # The first run ends after one broadcast; the next sends the change it carried over.
    assert await handle.result() == 2
    assert batches.sent == [Broadcast.RULES, Broadcast.RULES]
    assert (await handle.describe()).run_id != handle.result_run_id
