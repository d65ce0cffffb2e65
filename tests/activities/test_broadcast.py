"""The broadcast activity's batch, against the real dev server's batch operations."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from temporalio import workflow
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.broadcast import batch_done, signal_request, start_batch
from domain.broadcasts import Broadcast
from domain.messages import RulesChanged
from domain.rules import Rule

pytestmark = pytest.mark.asyncio(loop_scope="session")


@workflow.defn(name="BroadcastListener", sandboxed=False)
class Listener:
    """Waits for the rules, as a ticket would, and returns how many it got."""

    def __init__(self) -> None:
        self._rules: list[Rule] | None = None

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._rules is not None)
        return len(self._rules or [])

    @workflow.signal(name=Broadcast.RULES.value)
    def rules_changed(self, change: RulesChanged) -> None:
        self._rules = change.rules


def tag_rule(tag: str) -> Rule:
    return Rule.model_validate(
        {"name": tag, "trigger": "created", "actions": [{"type": "add_tag", "tag": tag}]}
    )


def listeners(task_queue: str) -> str:
    return (
        f"WorkflowType = 'BroadcastListener' AND ExecutionStatus = 'Running' "
        f"AND TaskQueue = '{task_queue}'"
    )


async def test_a_batch_is_done_once_every_running_listener_has_the_change(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_env.client
    async with Worker(client, task_queue=task_queue, workflows=[Listener]):
        handles = [
            await client.start_workflow(
                Listener.run, id=f"listener-{uuid4()}", task_queue=task_queue
            )
            for _ in range(3)
        ]
        query = listeners(task_queue)
        for _ in range(200):  # visibility lags a little behind the starts
            if (await client.count_workflows(query)).count == 3:
                break
            await asyncio.sleep(0.05)
        change = RulesChanged(rules=[tag_rule("one"), tag_rule("two")])
        request = await signal_request(client, f"test-{uuid4()}", Broadcast.RULES, change)
        request.visibility_query = query

        await start_batch(client, request)
        done = await batch_done(client, request.job_id)

        assert (done.signalled, done.failed) == (3, 0)
        assert [await h.result() for h in handles] == [2, 2, 2]
        # As when the answer was lost and the activity's retry starts the batch again: it is
        # the same batch, done already (while it ran the server said "busy", also retried).
        await start_batch(client, request)
        assert await batch_done(client, request.job_id) == done


async def test_a_batch_the_server_will_never_take_is_refused_for_good(
    dev_env: WorkflowEnvironment,
) -> None:
    request = await signal_request(
        dev_env.client, f"test-{uuid4()}", Broadcast.RULES, RulesChanged()
    )
    request.visibility_query = "NoSuchAttribute = 'x' AND"

    with pytest.raises(ApplicationError) as refused:
        await start_batch(dev_env.client, request)
    assert refused.value.non_retryable and request.job_id in str(refused.value)
