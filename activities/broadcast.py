"""The broadcast activity: what is in force, sent to every open ticket in one batch signal.

It reads the set as it stands when it runs (not when the change was made), starts a batch
signal under a job id fixed for the activity, and waits until the batch is done. A retry after
a lost answer finds its batch already started ("already exists") and goes on waiting for it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import (
    DescribeBatchOperationRequest,
    StartBatchOperationRequest,
)
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.liveness import heartbeating
from domain.broadcasts import BROADCAST_ACTIVITY, Broadcast, BroadcastSent
from domain.messages import PolicyChanged, RulesChanged
from persistence.in_force import policies_in_force
from persistence.repositories.automation_rules import enabled_rules

OPEN_TICKETS = "WorkflowType = 'TicketWorkflow' AND ExecutionStatus = 'Running'"
# How often a running batch is looked at; it reaches tickets at about 50 a second.
POLL_SECONDS = 0.5
# Refusals no retry can change. Any other (busy, cancelled, unavailable) is Temporal's to
# retry: a namespace runs few batch operations at once, one on a dev server.
_NEVER = frozenset(
    {
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.PERMISSION_DENIED,
        RPCStatusCode.UNIMPLEMENTED,
    }
)


class BroadcastActivities:
    """Wired with a session factory to read the set in force."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=BROADCAST_ACTIVITY)
    async def broadcast(self, kind: Broadcast) -> BroadcastSent:
        async with self._sessions() as session:
            change = await what_is_in_force(session, kind)
        info = activity.info()
        job_id = f"{info.workflow_id}-{info.workflow_run_id}-{info.activity_id}"
        client = activity.client()
        async with heartbeating():
            await start_batch(client, await signal_request(client, job_id, kind, change))
            return await batch_done(client, job_id)


async def what_is_in_force(session: AsyncSession, kind: Broadcast) -> BaseModel:
    """The signal argument that carries the current set of `kind`."""
    if kind is Broadcast.RULES:
        return RulesChanged(rules=await enabled_rules(session))
    return PolicyChanged(policies=await policies_in_force(session, datetime.now(UTC)))


async def signal_request(
    client: Client, job_id: str, kind: Broadcast, change: BaseModel
) -> StartBatchOperationRequest:
    payloads = await client.data_converter.encode([change])
    return StartBatchOperationRequest(
        namespace=client.namespace,
        visibility_query=OPEN_TICKETS,
        job_id=job_id,
        reason=f"{kind.value}: what is in force changed",
        signal_operation=BatchOperationSignal(
            signal=kind.value, input=Payloads(payloads=payloads), identity=client.identity
        ),
    )


async def start_batch(client: Client, request: StartBatchOperationRequest) -> None:
    """Start the batch; already started under this job id counts as started."""
    try:
        await client.workflow_service.start_batch_operation(request)
    except RPCError as error:
        if error.status is RPCStatusCode.ALREADY_EXISTS:
            return
        if error.status in _NEVER:
            raise ApplicationError(
                f"the server refuses batch {request.job_id}: {error}",
                type="BatchRefused",
                non_retryable=True,
            ) from error
        raise


async def batch_done(client: Client, job_id: str) -> BroadcastSent:
    """Wait for the batch to finish; what it reached."""
    request = DescribeBatchOperationRequest(namespace=client.namespace, job_id=job_id)
    while True:
        try:
            batch = await client.workflow_service.describe_batch_operation(request)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:  # just started: not listed yet
                raise
        else:
            if batch.state == BatchOperationState.BATCH_OPERATION_STATE_COMPLETED:
                return BroadcastSent(
                    job_id=job_id,
                    signalled=batch.complete_operation_count,
                    failed=batch.failure_operation_count,
                )
            if batch.state == BatchOperationState.BATCH_OPERATION_STATE_FAILED:
                raise ApplicationError(
                    f"batch {job_id} failed: {batch.reason}", type="BatchFailed", non_retryable=True
                )
        await asyncio.sleep(POLL_SECONDS)
