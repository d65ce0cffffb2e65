"""When a ticket's timer was really set to fire: what the lateness rows are made of.

Temporal starts a timer when the workflow task that asked for it *completes*, for the
duration the workflow computed at the task's *start* (`workflow.now()`). A task that runs
local activities before it completes (a new ticket's read-model write and routing) completes
later than it started, so its timer is set to fire late by that much, however promptly the
server then fires it. The histories of a sample of the batch's tickets show by how much.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from ticketflow.benchkit.stats import lateness_ms

SAMPLE = 40


def armed_late_ms(events: Iterable[HistoryEvent], due: datetime) -> float | None:
    """How late (ms) the timer meant for `due` was set to fire: its start plus its duration,
    minus `due`. That timer is the one set nearest to `due`; None if no timer was started."""
    set_for = [
        event.event_time.ToDatetime(tzinfo=UTC)
        + event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for event in events
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
    ]
    if not set_for:
        return None
    return lateness_ms(due, min(set_for, key=lambda at: abs(at - due)))


async def sample_armed_late_ms(
    client: Client, due_by_workflow: Mapping[str, datetime], sample: int = SAMPLE
) -> list[float]:
    """`armed_late_ms` for up to `sample` of the workflows, spread evenly over the batch."""
    ids = list(due_by_workflow)
    count = min(sample, len(ids))
    picked = [ids[index * len(ids) // count] for index in range(count)]
    found: list[float] = []
    for workflow_id in picked:
        handle = client.get_workflow_handle(workflow_id)
        events = [event async for event in handle.fetch_history_events()]
        late = armed_late_ms(events, due_by_workflow[workflow_id])
        if late is not None:
            found.append(late)
    return found
