"""SLA policies as administrators write them, and breached tickets as supervisors see them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas.common import ApiModel, Duration, PositiveDuration
from domain.durations import IsoDuration
from domain.enums import ClockState, Metric, Priority, SlaEventKind, TicketStatus
from domain.policies import EscalationTarget, PolicyConditions
from domain.sla import DEFAULT_WARN_AT
from domain.views import SlaView

PolicyName = Annotated[str, Field(min_length=1, max_length=120)]
Fraction = Annotated[float, Field(gt=0, lt=1)]

CONDITIONS_DOC = (
    "Which tickets the policy is for. Each key is optional and lists accepted values; a ticket "
    "matches when every present key contains its value: `department_id` (UUIDs), `category` "
    "(case-insensitive), `priority` (P1..P4), `requester_role` (user, vip_user, agent, admin). "
    "`{}` matches every ticket."
)


class MetricTargetsBody(ApiModel):
    """Targets of one priority (ISO 8601 durations); a missing metric does not apply."""

    first_response: PositiveDuration | None = None
    next_response: PositiveDuration | None = None
    resolution: PositiveDuration | None = None


class EscalationStepBody(ApiModel):
    """One step of the chain a breach starts; it must notify, set a priority or assign."""

    after: Duration = Field(
        timedelta(0), description="how long after the breach (ISO 8601, PT0S = at once)"
    )
    notify: list[EscalationTarget] = Field(default_factory=list, max_length=3)
    set_priority: Priority | None = None
    assign_to: Literal["manager"] | UUID | None = Field(
        None, description='"manager" (the department manager) or an agent\'s id'
    )

    @model_validator(mode="after")
    def _does_something(self) -> EscalationStepBody:
        if not (self.notify or self.set_priority or self.assign_to):
            raise ValueError("an escalation step must notify, set a priority or assign")
        return self


def _no_closed_pause(value: list[TicketStatus] | None) -> list[TicketStatus] | None:
    if value is not None and TicketStatus.CLOSED in value:
        raise ValueError("a closed ticket has no running clock to pause")
    return value


class SlaPolicyCreate(ApiModel):
    name: PolicyName
    position: int = Field(0, ge=0, le=1_000_000, description="lower positions are tried first")
    enabled: bool = True
    conditions: PolicyConditions = Field(
        default_factory=PolicyConditions, description=CONDITIONS_DOC
    )
    targets: dict[Priority, MetricTargetsBody] = Field(min_length=1)
    calendar_id: UUID | None = None
    pause_statuses: list[TicketStatus] = Field(default_factory=lambda: [TicketStatus.ON_HOLD])
    warn_at: list[Fraction] = Field(default_factory=lambda: list(DEFAULT_WARN_AT), max_length=10)
    escalation: list[EscalationStepBody] = Field(default_factory=list, max_length=10)

    _pauses = field_validator("pause_statuses")(_no_closed_pause)


class SlaPolicyUpdate(ApiModel):
    """Absent fields stay as they are."""

    name: PolicyName | None = None
    position: int | None = Field(None, ge=0, le=1_000_000)
    enabled: bool | None = None
    conditions: PolicyConditions | None = Field(None, description=CONDITIONS_DOC)
    targets: dict[Priority, MetricTargetsBody] | None = Field(None, min_length=1)
    calendar_id: UUID | None = None
    pause_statuses: list[TicketStatus] | None = None
    warn_at: list[Fraction] | None = Field(None, max_length=10)
    escalation: list[EscalationStepBody] | None = Field(None, max_length=10)

    _pauses = field_validator("pause_statuses")(_no_closed_pause)


class MetricTargetsOut(BaseModel):
    first_response: IsoDuration | None = None
    next_response: IsoDuration | None = None
    resolution: IsoDuration | None = None


class EscalationStepOut(BaseModel):
    after: IsoDuration
    notify: list[str] = Field(default_factory=list)
    set_priority: Priority | None = None
    assign_to: str | None = None


class SlaPolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    position: int
    enabled: bool
    conditions: dict[str, Any]
    targets: dict[Priority, MetricTargetsOut]
    calendar_id: UUID | None
    pause_statuses: list[TicketStatus]
    warn_at: list[float]
    escalation: list[EscalationStepOut]
    created_at: datetime
    updated_at: datetime


class SlaEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    metric: Metric
    cycle: int
    event: SlaEventKind
    target: IsoDuration
    elapsed: IsoDuration
    state: ClockState
    due_at: datetime | None
    fraction: float | None
    occurred_at: datetime


class BreachedTicket(BaseModel):
    """A ticket whose SLA is breached, from the read model."""

    ticket_id: UUID
    number: int
    title: str
    status: TicketStatus
    priority: Priority
    assignee_id: UUID | None
    department_id: UUID
    sla_state: ClockState | None
    sla: SlaView
    breaches: list[SlaEventOut] = Field(description="the breach events, oldest first")


class TicketSlaReport(BaseModel):
    """One ticket's SLA: its live clocks and every clock event so far."""

    ticket_id: UUID
    number: int
    sla: SlaView
    events: list[SlaEventOut]


class MetricStatsOut(BaseModel):
    key: str = Field(description="department id, priority, or period start, per `group_by`")
    metric: Metric
    met: int
    breached: int
    compliance: float | None = Field(description="percent of decided clocks met")
    median: IsoDuration | None = Field(description="median business time to fulfil")


class SlaStatsOut(BaseModel):
    group_by: str
    since: datetime
    until: datetime
    items: list[MetricStatsOut]
