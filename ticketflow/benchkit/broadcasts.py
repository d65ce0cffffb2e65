"""Waiting out the API's broadcasts: the batch signals a rule or policy change fans out.

Creating or deleting an automation rule or an SLA policy makes the API start one batch
signal to every open ticket (`api.services.broadcast`). Temporal delivers it in the
background, a few dozen tickets a second, and each one costs the ticketflow worker a workflow
task. A phase that measured meanwhile would time that backlog, and the dev server runs one
batch at a time, so the next change's broadcast would be refused while it lasts.
"""

from __future__ import annotations

import asyncio
import time

from temporalio.api.enums.v1 import BatchOperationState
from temporalio.api.workflowservice.v1 import ListBatchOperationsRequest
from temporalio.client import Client

from ticketflow.benchkit.processes import BenchError

_POLL_S = 0.5
_PAGE_SIZE = 100


async def running_broadcasts(client: Client) -> int:
    """How many batch operations are running in the client's namespace."""
    running = 0
    token = b""
    while True:
        page = await client.workflow_service.list_batch_operations(
            ListBatchOperationsRequest(
                namespace=client.namespace, page_size=_PAGE_SIZE, next_page_token=token
            )
        )
        running += sum(
            1
            for info in page.operation_info
            if info.state == BatchOperationState.BATCH_OPERATION_STATE_RUNNING
        )
        token = page.next_page_token
        if not token:
            return running


async def broadcasts_done(client: Client, *, within: float) -> float:
    """Wait until no batch operation runs; the seconds waited. BenchError after `within`."""
    started = time.monotonic()
    while (left := await running_broadcasts(client)) > 0:
        if time.monotonic() - started > within:
            raise BenchError(
                f"{left} broadcast(s) to open tickets still running after {within:.0f}s"
            )
        await asyncio.sleep(_POLL_S)
    return time.monotonic() - started
