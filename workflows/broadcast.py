"""BroadcastWorkflow: sends what is in force to every open ticket, each change once.

The API signals-with-start it (`changed`) after storing a change to the automation rules or
SLA policies. Each broadcast is one activity that reads the set in force *then* and sends it in
one batch signal, waiting until the batch is done. Changes made while one is on its way fold
into the next, and broadcasts of a kind never overlap, so the last one a ticket gets always
carries the latest set. Temporal retries a broadcast the server will not take yet (a
namespace runs few batch operations at once), however long that takes: none is dropped.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.broadcasts import BROADCAST_ACTIVITY, BroadcastRun, BroadcastSent

# A batch reaches tickets at the server's pace (about 50 a second by default); the activity
# heartbeats while it waits, and a retry resumes waiting for the same batch.
BROADCAST_TIMEOUT = timedelta(minutes=10)
BROADCAST_HEARTBEAT = timedelta(seconds=30)
BROADCAST_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# With nothing to send for this long the workflow ends; the next change starts it again.
IDLE = timedelta(minutes=10)
# Broadcasts per run before continuing as new, which keeps the event history short.
BROADCASTS_PER_RUN = 200


@workflow.defn(name="BroadcastWorkflow")
class BroadcastWorkflow:
    def __init__(self) -> None:
        self._pending = False
        self._sending = False

    @workflow.run
    async def run(self, input: BroadcastRun) -> int:
        self._pending = self._pending or input.pending
        sent = input.sent
        for _ in range(BROADCASTS_PER_RUN):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._pending, timeout=IDLE)
            if not self._pending:
                return sent  # idle: a signal that arrives as this ends reruns the task
            self._pending = False
            if await self._broadcast(input):
                sent += 1
        workflow.continue_as_new(BroadcastRun(kind=input.kind, sent=sent, pending=self._pending))

    async def _broadcast(self, input: BroadcastRun) -> bool:
        self._sending = True
        try:
            done: BroadcastSent = await workflow.execute_activity(
                BROADCAST_ACTIVITY,
                input.kind,
                result_type=BroadcastSent,
                start_to_close_timeout=BROADCAST_TIMEOUT,
                heartbeat_timeout=BROADCAST_HEARTBEAT,
                retry_policy=BROADCAST_RETRY,
            )
        except ActivityError as error:
            # Only a batch the server refused for good ends here (retries are unlimited); the
            # next change sends the set again.
            workflow.logger.error("broadcast of %s failed: %s", input.kind, error.cause)
            return False
        finally:
            self._sending = False
        workflow.logger.info(
            "broadcast %s reached %d open tickets (%d failed)",
            done.job_id,
            done.signalled,
            done.failed,
        )
        return True

    @workflow.query(name="idle", description="Every change asked for has reached the tickets.")
    def idle(self) -> bool:
        return not (self._pending or self._sending)

    @workflow.signal(name="changed", description="What is in force changed: send it again.")
    def changed(self) -> None:
        self._pending = True
