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
    for wait in _RETRY_WAITS:
        try:
            await client.workflow_service.start_batch_operation(request)
            return True
        except RPCError as error:
            # A namespace runs few batch operations at once (one on a dev server): the
            # previous broadcast is usually done in a moment.
            if error.status is not RPCStatusCode.RESOURCE_EXHAUSTED or wait is None:
                log.warning("could not tell open tickets about %s: %s", signal, error)
                return False
            await asyncio.sleep(wait)
    return False
