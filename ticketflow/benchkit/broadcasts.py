"""Waiting out the broadcasts: the batch signals a rule or policy change fans out.

Creating or deleting an automation rule or an SLA policy makes the API ask the kind's
`BroadcastWorkflow` to send the new set to every open ticket (`workflows/broadcast.py`), and
answer at once. Temporal delivers the batch in the background, a few dozen tickets a second,
and each one costs the ticketflow worker a workflow task. A phase that measured meanwhile
would time that backlog.
"""

from __future__ import annotations

import asyncio
import time

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.broadcasts import Broadcast
from ticketflow.benchkit.processes import BenchError
from workflows.broadcast import BroadcastWorkflow

_POLL_S = 0.5


async def broadcasters_busy(client: Client, task_queue: str) -> int:
    """How many of the stack's broadcast workflows still have a change to send."""
    busy = 0
    for kind in Broadcast:
        handle = client.get_workflow_handle(kind.workflow_id(task_queue))
        try:
            idle: bool = await handle.query(BroadcastWorkflow.idle)
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:  # never asked for: nothing to send
                raise
            idle = True
        busy += not idle
    return busy


async def broadcasts_done(client: Client, task_queue: str, *, within: float) -> float:
    """Wait until every change has reached the open tickets; the seconds waited.

    A broadcaster is idle only once its last batch is done. BenchError after `within`.
    """
    started = time.monotonic()
    while (left := await broadcasters_busy(client, task_queue)) > 0:
        if time.monotonic() - started > within:
            raise BenchError(
                f"{left} broadcast(s) to open tickets still running after {within:.0f}s"
            )
        await asyncio.sleep(_POLL_S)
    return time.monotonic() - started
