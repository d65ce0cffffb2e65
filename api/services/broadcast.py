"""Tell every open ticket that the rules or SLA policies changed.

The API only signals-with-start the kind's `BroadcastWorkflow` (`workflows/broadcast.py`),
one quick request; the workflow reads what is in force and sends it to the open tickets in a
batch signal, retrying until the server takes it. So no broadcast is dropped when Temporal
is busy with another, and the admin's request does not wait for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from temporalio.client import Client
from temporalio.service import RPCError

from domain.broadcasts import Broadcast, BroadcastRun
from workflows.broadcast import BroadcastWorkflow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Broadcaster:
    client: Client
    task_queue: str

    async def announce(self, kind: Broadcast) -> bool:
        """Ask for a broadcast of `kind`; False (logged) if Temporal could not be reached.

        The change itself is already stored: tickets opened from now on have it, and running
        tickets get it with the next broadcast.
        """
        try:
            await self.client.start_workflow(
                BroadcastWorkflow.run,
                BroadcastRun(kind=kind),
                id=kind.workflow_id(self.task_queue),
                task_queue=self.task_queue,
                start_signal="changed",
                static_summary=kind.summary,
            )
        except RPCError as error:
            log.error("could not ask for a broadcast of %s: %s", kind.value, error)
            return False
        return True
