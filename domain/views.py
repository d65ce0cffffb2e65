"""The ticket as the API and the Web UI show it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from domain.calendar import ALWAYS_OPEN, BusinessCalendar
from domain.durations import IsoDuration, SignedIsoDuration
from domain.enums import ClockState, Impact, Metric, Priority, Source, TicketStatus, Urgency
from domain.sla import Clock
from domain.ticket import TicketState

_STATE_RANK = {
    ClockState.BREACHED: 0,
    ClockState.AT_RISK: 1,
    ClockState.OK: 2,
    ClockState.PAUSED: 3,
    ClockState.MET: 4,
}


class MetricView(BaseModel):
    target_at: datetime | None
    state: ClockState
    remaining: SignedIsoDuration
    elapsed: IsoDuration
    cycle: int = 1


class SlaView(BaseModel):
    policy: str | None
    first_response: MetricView | None = None
    next_response: MetricView | None = None
    resolution: MetricView | None = None

    def overall(self) -> ClockState | None:
        """The most urgent state among the metrics: what an agent should look at first."""
        states = [m.state for m in (self.first_response, self.next_response, self.resolution) if m]
        return min(states, key=_STATE_RANK.__getitem__) if states else None

    def next_breach_at(self) -> datetime | None:
        metrics = (self.first_response, self.next_response, self.resolution)
        times = [m.target_at for m in metrics if m and m.state in _RUNNING and m.target_at]
        return min(times, default=None)


_RUNNING = {ClockState.OK, ClockState.AT_RISK}


class TicketView(BaseModel):
    id: UUID
    number: int
    title: str
    description: str
    requester_id: UUID
    assignee_id: UUID | None
    department_id: UUID
    category: str
    subcategory: str | None
    priority: Priority
    urgency: Urgency
    impact: Impact
    status: TicketStatus
    source: Source
    tags: list[str]
    duplicate_of: UUID | None
    solution: str | None
    satisfaction_score: int | None
    feedback: str | None
    closed_for_inactivity: bool
    metadata: dict[str, Any]
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    version: int
    sla: SlaView


def metric_view(
    clock: Clock, now: datetime, warn_at: tuple[float, ...], calendar: BusinessCalendar
) -> MetricView:
    return MetricView(
        target_at=clock.deadline(calendar) if clock.running else None,
        state=clock.state(now, warn_at, calendar),
        remaining=clock.remaining(now, calendar),
        elapsed=clock.elapsed(now, calendar),
        cycle=clock.cycle,
    )


def sla_view(state: TicketState, now: datetime) -> SlaView:
    policy = state.policy
    warn_at = policy.warn_at if policy else ()
    calendar = policy.business_calendar if policy else ALWAYS_OPEN
    metrics = {
        clock.metric.value: metric_view(clock, now, warn_at, calendar)
        for clock in state.current_clocks()
    }
    return SlaView(policy=state.policy.name if state.policy else None, **metrics)


_SHARED_FIELDS = frozenset(TicketView.model_fields) & frozenset(TicketState.model_fields)


def ticket_view(state: TicketState, now: datetime) -> TicketView:
    # Built on every change of every ticket: the state is already validated, so its values
    # are copied as they are instead of being dumped and validated again.
    data = {name: getattr(state, name) for name in _SHARED_FIELDS}
    data.update(tags=list(state.tags), metadata=dict(state.metadata))  # no shared mutables
    return TicketView.model_construct(
        **data, department_id=state.department.id, sla=sla_view(state, now)
    )


__all__ = ["Metric", "MetricView", "SlaView", "TicketView", "sla_view", "ticket_view"]
