"""Tell every open ticket at once: one batch signal to the running ticket workflows.

Used when something every ticket carries a copy of changes (the automation rules). It is a
single request to Temporal, which fans the signal out server-side; no ticket list is walked.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import uuid4

from pydantic import BaseModel
from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.common.v1 import Payloads
from temporalio.api.workflowservice.v1 import StartBatchOperationRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger(__name__)

OPEN_TICKETS = "WorkflowType = 'TicketWorkflow' AND ExecutionStatus = 'Running'"
_RETRY_WAITS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, None)
# Refusals that say "not now" rather than "never": a namespace runs few batch operations at
# once (one on a dev server), and a busy server may cancel or time out the start itself.
_TRANSIENT = frozenset(
    {
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.UNAVAILABLE,
    }
)


async def signal_open_tickets(client: Client, signal: str, arg: BaseModel, reason: str) -> bool:
    """Start a batch signal to every running ticket; False (logged) if Temporal refused it.

    The change itself is already stored, so a refused broadcast loses nothing for tickets
    opened later; running tickets get the next broadcast.
    """
    payloads = await client.data_converter.encode([arg])
    request = StartBatchOperationRequest(
        namespace=client.namespace,
        visibility_query=OPEN_TICKETS,
        job_id=f"{signal}-{uuid4()}",
        reason=reason,
        signal_operation=BatchOperationSignal(
            signal=signal, input=Payloads(payloads=payloads), identity=client.identity
        ),
    )
    return await start_batch(client, request)


async def start_batch(client: Client, request: StartBatchOperationRequest) -> bool:
    """Start a batch operation, retrying transient refusals under the same job id.

    The job id makes the retries idempotent: a start that reached the server before its answer
    was lost comes back as "already exists", which is the success it was.
    """
    for wait in _RETRY_WAITS:
        try:
            await client.workflow_service.start_batch_operation(request)
            return True
        except RPCError as error:
            if error.status is RPCStatusCode.ALREADY_EXISTS:
                return True
            if error.status not in _TRANSIENT or wait is None:
                log.warning("could not start batch %s: %s", request.job_id, error)
                return False
            await asyncio.sleep(wait)
    return False
