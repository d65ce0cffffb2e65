"""The worker's runner: workflows still run sandboxed, and payloads convert as before (through
the production converter: pydantic JSON, sealed by the payload codec)."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from workers.main import WORKFLOW_RUNNER
from workers.runner import ContextFreeRunner


class Parcel(BaseModel):
    label: str
    weight_kg: float


@activity.defn
async def weigh(parcel: Parcel) -> Parcel:
    return parcel.model_copy(update={"weight_kg": parcel.weight_kg * 2})


@workflow.defn(sandboxed=True)
class ParcelWorkflow:
    @workflow.run
    async def run(self, parcel: Parcel) -> Parcel:
        workflow.set_current_details(f"weighing {parcel.label}")
        weighed: Parcel = await workflow.execute_activity(
            weigh, parcel, start_to_close_timeout=timedelta(seconds=10), summary="weigh"
        )
        return weighed


@workflow.defn(sandboxed=True)
class ClockReaderWorkflow:
    @workflow.run
    async def run(self) -> str:
        import datetime

        try:
            return str(datetime.datetime.now())  # the sandbox must still refuse this
        except Exception as error:
            raise ApplicationError(type(error).__name__, non_retryable=True) from error


async def test_payloads_round_trip_through_the_context_free_runner(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    assert isinstance(WORKFLOW_RUNNER, ContextFreeRunner)
    client = time_skipping_env.client
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ParcelWorkflow],
        activities=[weigh],
        workflow_runner=WORKFLOW_RUNNER,
    ):
        weighed = await client.execute_workflow(
            ParcelWorkflow.run,
            Parcel(label="toner", weight_kg=1.5),
            id=f"parcel-{uuid4()}",
            task_queue=task_queue,
            result_type=Parcel,
        )
    assert weighed == Parcel(label="toner", weight_kg=3.0)


async def test_workflow_code_still_runs_in_the_sandbox(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = time_skipping_env.client
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[ClockReaderWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
    ):
        handle = await client.start_workflow(
            ClockReaderWorkflow.run, id=f"clock-{uuid4()}", task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert str(failed.value.cause) == "RestrictedWorkflowAccessError"
