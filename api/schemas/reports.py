"""Report bodies: dashboards, per-agent and per-ticket figures, satisfaction, KPIs, schedules.

Durations are ISO 8601; a median or percentile over no events is null, as is a percentage
of nothing.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas.common import ApiModel, PositiveDuration
from api.schemas.users import Email
from domain.durations import IsoDuration
from domain.enums import Metric
from domain.reports import ReportFormat, ReportKind

Counts = dict[str, int]


class PeriodOut(BaseModel):
    """The half-open period `[from, to)` the figures are about."""

    model_config = ConfigDict(populate_by_name=True)

    since: datetime = Field(serialization_alias="from")
    until: datetime = Field(serialization_alias="to")


class TimingsOut(BaseModel):
    """Wall-clock time from creation to the first agent reply and to resolution."""

    first_responses: int
    first_response_median: IsoDuration | None
    first_response_p90: IsoDuration | None
    resolutions: int
    resolution_median: IsoDuration | None
    resolution_p90: IsoDuration | None


class RatingsOut(BaseModel):
    """Satisfaction scores (1-10): average, CSAT (percent scoring 8-10) and NPS."""

    responses: int
    average: float | None
    csat: float | None = Field(description="percent of scores 8-10")
    nps: float | None = Field(description="percent promoters (9-10) minus detractors (1-6)")
    promoters: int
    passives: int
    detractors: int
    distribution: Counts = Field(description='responses per score, "1" to "10"')


class MetricComplianceOut(BaseModel):
    metric: Metric
    met: int
    breached: int
    compliance: float | None = Field(description="percent of decided clocks met")


class SlaComplianceOut(BaseModel):
    """SLA clocks started in the period that were met or breached (running ones: neither)."""

    met: int
    breached: int
    compliance: float | None
    metrics: list[MetricComplianceOut]


class BacklogOut(BaseModel):
    open: int
    median_age: IsoDuration | None
    oldest_age: IsoDuration | None
    by_age: Counts = Field(description="open tickets per age band")


class RequesterDashboard(BaseModel):
    view: Literal["requester"] = "requester"
    total: int
    open: int
    by_status: Counts


class AgentDashboard(BaseModel):
    view: Literal["agent"] = "agent"
    assigned_open: int
    by_status: Counts
    by_priority: Counts
    sla_at_risk: int
    sla_breached: int
    resolved_today: int = Field(description="since 00:00 UTC")
    resolved_this_week: int = Field(description="since Monday 00:00 UTC")


class DeskDashboard(BaseModel):
    view: Literal["desk"] = "desk"
    period: PeriodOut
    open: int
    open_by_status: Counts
    open_by_priority: Counts
    open_by_department: Counts
    created: int
    resolved: int
    sla: SlaComplianceOut
    backlog: BacklogOut


Dashboard = Annotated[
    RequesterDashboard | AgentDashboard | DeskDashboard, Field(discriminator="view")
]


class AgentReportRow(BaseModel):
    id: UUID
    name: str
    email: str
    department_id: UUID | None
    current_load: int
    assigned_open: int
    resolved: int
    first_response_median: IsoDuration | None
    resolution_median: IsoDuration | None
    sla_compliance: float | None
    ratings: int
    average_rating: float | None


class AgentsReport(BaseModel):
    period: PeriodOut
    items: list[AgentReportRow]


class VolumePointOut(BaseModel):
    start: date
    created: int
    resolved: int


class TicketsReport(BaseModel):
    period: PeriodOut
    bucket: Literal["day", "week"]
    total: int = Field(description="tickets created in the period")
    volume: list[VolumePointOut]
    by_status: Counts
    by_priority: Counts
    by_department: Counts
    by_category: Counts
    by_source: Counts


class SatisfactionReport(BaseModel):
    period: PeriodOut
    scale: Literal["1-10"] = "1-10"
    ratings: RatingsOut


class KpiTime(BaseModel):
    count: int
    median: IsoDuration | None
    p90: IsoDuration | None


class PerformanceReport(BaseModel):
    period: PeriodOut
    created: int
    resolved: int
    reopened: int
    reopen_rate: float | None = Field(description="percent: reopened / resolved in the period")
    first_response: KpiTime
    resolution: KpiTime
    sla: SlaComplianceOut
    backlog: BacklogOut


class RequesterStats(BaseModel):
    view: Literal["requester"] = "requester"
    opened: int
    open: int
    resolved: int = Field(description="resolved or closed")
    ratings_given: int
    average_rating_given: float | None


class AgentStats(BaseModel):
    view: Literal["agent"] = "agent"
    period: PeriodOut
    assigned_open: int
    resolved: int
    timings: TimingsOut
    ratings: RatingsOut


PersonalStats = Annotated[RequesterStats | AgentStats, Field(discriminator="view")]


class DepartmentStats(BaseModel):
    department_id: UUID
    name: str
    period: PeriodOut
    open: int
    open_by_status: Counts
    open_by_priority: Counts
    created: int
    resolved: int
    sla: SlaComplianceOut
    timings: TimingsOut
    agents: list[AgentReportRow]


# Five fields: minute, hour, day of month, month, day of week; numbers, *, ranges, steps, lists.
_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
MIN_EVERY = timedelta(hours=1)
MAX_LOOK_BACK = timedelta(days=366)


def _check_cron(expression: str) -> str:
    fields = expression.split()
    if len(fields) != len(_CRON_RANGES):
        raise ValueError("cron needs five fields: minute hour day-of-month month day-of-week")
    for field, (low, high) in zip(fields, _CRON_RANGES, strict=True):
        if not _CRON_FIELD.match(field):
            raise ValueError(f"cron field {field!r} is not numbers, *, ranges, steps or lists")
        numbers = [int(n) for n in re.findall(r"\d+", re.sub(r"/\d+", "", field))]
        if any(not low <= n <= high for n in numbers):
            raise ValueError(f"cron field {field!r} is outside {low}-{high}")
    return " ".join(fields)


class ScheduleCreate(ApiModel):
    """A report mailed on a cron timetable or every fixed interval (exactly one of the two)."""

    kind: ReportKind
    format: ReportFormat
    cron: str | None = Field(None, max_length=120, examples=["0 7 * * 1"])
    every: PositiveDuration | None = Field(None, description="at least PT1H")
    time_zone: str = Field("UTC", max_length=64, description="IANA zone the cron is read in")
    look_back: PositiveDuration = Field(
        timedelta(days=7), description="each run covers this much time up to its start"
    )
    department_id: UUID | None = None
    recipients: list[Email] = Field(min_length=1, max_length=20)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        return None if value is None else _check_cron(value)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value != "UTC" and value not in available_timezones():
            raise ValueError("unknown IANA time zone")
        return value

    @model_validator(mode="after")
    def _one_timetable(self) -> ScheduleCreate:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron and every")
        if self.every is not None and self.every < MIN_EVERY:
            raise ValueError("every must be at least PT1H")
        if self.look_back > MAX_LOOK_BACK:
            raise ValueError("look_back must be at most P366D")
        return self


class ScheduleOut(BaseModel):
    id: str
    kind: ReportKind
    format: ReportFormat
    cron: str | None
    every: IsoDuration | None
    time_zone: str
    look_back: IsoDuration
    department_id: UUID | None
    recipients: list[str]
    paused: bool
    next_run_at: datetime | None
