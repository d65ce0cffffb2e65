"""Bare Temporal: the no-op workflows ticketflow's figures are compared with.

They do the least a workflow can do for each figure: wait for signals (parked, like an open
ticket), or sleep until an instant and then record, in a local activity, how late it woke
(like a ticket's SLA breach written by its read-model local activity).
"""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio import activity, workflow

PARKED_WORKFLOW = "BenchParked"
TIMER_WORKFLOW = "BenchTimer"
POKE_SIGNAL = "poke"
LATENESS_ACTIVITY = "bench_lateness"


@workflow.defn(name=PARKED_WORKFLOW)
class ParkedWorkflow:
    """Starts, then waits for ever; each `poke` signal only bumps a counter."""

    def __init__(self) -> None:
        self._pokes = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: False)
        return self._pokes

    @workflow.signal(name=POKE_SIGNAL)
    def poke(self) -> None:
        self._pokes += 1


@workflow.defn(name=TIMER_WORKFLOW)
class TimerWorkflow:
    """Sleeps until `target` (epoch seconds), then returns how late (s) the side effect ran."""

    @workflow.run
    async def run(self, target: float) -> float:
        delay = target - workflow.now().timestamp()
        # The ticket workflow sleeps at least 1 ms too, even for a deadline already past.
        await workflow.sleep(max(delay, 0.001))
        late: float = await workflow.execute_local_activity(
            LATENESS_ACTIVITY, target, start_to_close_timeout=timedelta(seconds=15)
        )
        return late


@activity.defn(name=LATENESS_ACTIVITY)
async def lateness(target: float) -> float:
    """Seconds between `target` and now: the bare counterpart of `sla_history.recorded_at`."""
    return time.time() - target
