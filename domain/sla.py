"""SLA policies and the clock that measures one metric of one ticket.

A `Clock` keeps only facts (when it started, its target, the pauses taken, when it stopped);
elapsed time, deadline and state are derived from them for any `now`, so a changed target or
a changed calendar re-targets a running clock without losing time already spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.calendar import ALWAYS_OPEN, BusinessCalendar
from domain.calendars import CalendarTerms, calendar_for
from domain.durations import IsoDuration
from domain.enums import ClockState, Metric, Priority, TicketStatus

DEFAULT_WARN_AT = (0.5, 0.75, 0.9)

Fraction = Annotated[float, Field(gt=0, lt=1)]
PositiveDuration = Annotated[IsoDuration, Field(gt=timedelta(0))]


class MetricTargets(BaseModel):
    """Targets for one priority; a missing target means the metric does not apply."""

    model_config = ConfigDict(frozen=True)

    first_response: PositiveDuration | None = None
    next_response: PositiveDuration | None = None
    resolution: PositiveDuration | None = None

    def for_metric(self, metric: Metric) -> timedelta | None:
        value: timedelta | None = getattr(self, metric.value)
        return value


EscalationTarget = Literal["assignee", "manager", "admins"]


class EscalationStep(BaseModel):
    """What happens once a clock is breached, and how long after the breach (`PT0S` = at it).

    The delay is wall-clock time: an escalation is about people being told, not about the
    business hours the clock counts in. A step runs only while its clock still runs, so an
    answer or a resolution after the breach calls off the steps still to come.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    after: Annotated[timedelta, Field(ge=timedelta(0))] = timedelta(0)
    notify: list[EscalationTarget] = Field(default_factory=list)
    set_priority: Priority | None = None
    assign_to: Literal["manager"] | UUID | None = Field(
        None, description='"manager" (the department manager) or an agent id'
    )

    @model_validator(mode="after")
    def _does_something(self) -> EscalationStep:
        if not (self.notify or self.set_priority or self.assign_to):
            raise ValueError("an escalation step must notify, set a priority or assign")
        return self


class PolicyTerms(BaseModel):
    """What a ticket's workflow needs to know of the SLA policy that applies to it."""

    model_config = ConfigDict(frozen=True)

    policy_id: UUID | None = None
    name: str
    targets: dict[Priority, MetricTargets]
    warn_at: tuple[Fraction, ...] = DEFAULT_WARN_AT
    pause_statuses: frozenset[TicketStatus] = frozenset({TicketStatus.ON_HOLD})
    calendar: CalendarTerms | None = Field(
        None, description="Business hours the clocks count in; none means 24×7."
    )
    escalation: tuple[EscalationStep, ...] = ()

    @field_validator("warn_at")
    @classmethod
    def _sorted_unique(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(sorted(set(value)))

    @cached_property
    def business_calendar(self) -> BusinessCalendar:
        """The calendar the clocks of this policy run on (built once per policy)."""
        return calendar_for(self.calendar)

    def target(self, priority: Priority, metric: Metric) -> timedelta | None:
        targets = self.targets.get(priority)
        return targets.for_metric(metric) if targets else None


class Pause(BaseModel):
    start: datetime
    end: datetime | None = None


class Clock(BaseModel):
    """One metric of one ticket in one cycle."""

    metric: Metric
    cycle: int = 1
    started_at: datetime
    target: timedelta
    pauses: list[Pause] = Field(default_factory=list)
    stopped_at: datetime | None = None
    warned: list[float] = Field(default_factory=list)
    breached_at: datetime | None = None
    escalated: list[int] = Field(
        default_factory=list, description="indices of the delayed escalation steps already run"
    )

    # -- facts -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    # -- derived ---------------------------------------------------------------------------

    def elapsed(self, now: datetime, calendar: BusinessCalendar = ALWAYS_OPEN) -> timedelta:
        """Business time counted so far: from the start to `now` (or the stop), less pauses."""
        until = min(now, self.stopped_at) if self.stopped_at else now
        total = calendar.business_time(self.started_at, until)
        for pause in self.pauses:
            pause_end = min(pause.end or until, until)
            total -= calendar.business_time(pause.start, pause_end)
        return max(total, timedelta(0))

    def _counting_since(self) -> datetime:
        """The last instant the clock (re)started counting; the deadline is derived from it."""
        ends = [p.end for p in self.pauses if p.end is not None]
        return max([self.started_at, *ends])

    def time_at(self, fraction: float, calendar: BusinessCalendar = ALWAYS_OPEN) -> datetime | None:
        """When `fraction` of the target will have elapsed, or None while paused or stopped."""
        if not self.running or self.paused:
            return None
        since = self._counting_since()
        left = self.target * fraction - self.elapsed(since, calendar)
        return calendar.add_business_time(since, left) if left > timedelta(0) else since

    def deadline(self, calendar: BusinessCalendar = ALWAYS_OPEN) -> datetime | None:
        return self.time_at(1.0, calendar)

    def remaining(self, now: datetime, calendar: BusinessCalendar = ALWAYS_OPEN) -> timedelta:
        return self.target - self.elapsed(now, calendar)

    def state(
        self,
        now: datetime,
        warn_at: Sequence[float] = DEFAULT_WARN_AT,
        calendar: BusinessCalendar = ALWAYS_OPEN,
    ) -> ClockState:
        elapsed = self.elapsed(now, calendar)
        if not self.running:
            late = self.breached_at is not None or elapsed > self.target
            return ClockState.BREACHED if late else ClockState.MET
        if self.breached_at is not None or elapsed >= self.target:
            return ClockState.BREACHED
        if self.paused:
            return ClockState.PAUSED
        if warn_at and elapsed >= self.target * min(warn_at):
            return ClockState.AT_RISK
        return ClockState.OK

    # -- changes ---------------------------------------------------------------------------

    def pause(self, now: datetime) -> bool:
        if not self.running or self.paused:
            return False
        self.pauses.append(Pause(start=now))
        return True

    def resume(self, now: datetime) -> bool:
        if not self.running or not self.paused:
            return False
        self.pauses[-1].end = now
        return True

    def stop(self, now: datetime) -> bool:
        if not self.running:
            return False
        self.resume(now)
        self.stopped_at = now
        return True

    def retarget(
        self, target: timedelta, now: datetime, calendar: BusinessCalendar = ALWAYS_OPEN
    ) -> bool:
        """Change the target keeping time spent and pauses; a warning not yet reached re-arms."""
        if target == self.target:
            return False
        elapsed = self.elapsed(now, calendar)
        self.target = target
        self.warned = [f for f in self.warned if elapsed >= target * f]
        return True


def pending_warning(
    clock: Clock, now: datetime, warn_at: Sequence[float], calendar: BusinessCalendar = ALWAYS_OPEN
) -> float | None:
    """The highest warning fraction already due and not yet sent, if any."""
    if not clock.running or clock.paused or clock.breached_at is not None:
        return None
    elapsed = clock.elapsed(now, calendar)
    due = [f for f in warn_at if f not in clock.warned and elapsed >= clock.target * f]
    return max(due) if due else None


def delayed_escalations(
    clock: Clock, steps: Sequence[EscalationStep]
) -> list[tuple[int, datetime]]:
    """The breached clock's escalation steps still to run after the breach, with when."""
    if not clock.running or clock.paused or clock.breached_at is None:
        return []
    return [
        (index, clock.breached_at + step.after)
        for index, step in enumerate(steps)
        if step.after > timedelta(0) and index not in clock.escalated
    ]


def next_due(
    clock: Clock,
    warn_at: Sequence[float],
    calendar: BusinessCalendar = ALWAYS_OPEN,
    escalation: Sequence[EscalationStep] = (),
) -> datetime | None:
    """The next instant at which this clock needs attention: a warning, its breach, or an
    escalation step after the breach."""
    if clock.breached_at is not None:
        return min((at for _, at in delayed_escalations(clock, escalation)), default=None)
    if not clock.running or clock.paused:
        return None
    fractions = [f for f in warn_at if f not in clock.warned] + [1.0]
    times = [t for f in fractions if (t := clock.time_at(f, calendar)) is not None]
    return min(times) if times else None
