"""Broadcasts to open tickets, against the real dev server's batch operations."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest
from pydantic import BaseModel
from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.workflowservice.v1 import StartBatchOperationRequest
from temporalio.testing import WorkflowEnvironment

from api.services.broadcast import signal_open_tickets, start_batch

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Ping(BaseModel):
    at: int = 0


def _request(env: WorkflowEnvironment, query: str) -> StartBatchOperationRequest:
    return StartBatchOperationRequest(
        namespace=env.client.namespace,
        visibility_query=query,
        job_id=f"test-{uuid4()}",
        reason="test",
        signal_operation=BatchOperationSignal(signal="nothing_listens"),
    )


async def test_a_start_repeated_under_its_job_id_counts_as_started(
    dev_env: WorkflowEnvironment,
) -> None:
    request = _request(dev_env, "WorkflowType = 'NoSuchWorkflow'")

    assert await start_batch(dev_env.client, request)
    # As when the first answer was lost on the way back and the start is sent again.
    assert await start_batch(dev_env.client, request)


async def test_broadcasts_at_once_all_start_though_the_server_runs_one_at_a_time(
    dev_env: WorkflowEnvironment,
) -> None:
    started = await asyncio.gather(
        *(
            signal_open_tickets(dev_env.client, "nothing_listens", Ping(at=n), "test")
            for n in range(3)
        )
    )

    assert started == [True, True, True]


async def test_a_request_the_server_will_never_take_is_refused_at_once(
    dev_env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    request = _request(dev_env, "NoSuchAttribute = 'x' AND")

    assert not await start_batch(dev_env.client, request)
    assert request.job_id in caplog.text
