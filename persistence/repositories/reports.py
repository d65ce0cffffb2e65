"""The helpdesk's figures, read from the ticket read model: counts, timings, ratings, backlog.

Every figure is over a `Slice` of the live tickets (a department, a requester, an assignee,
or all) and, where it counts events, over a half-open period `[since, until)` in which the
event happened: a ticket counts as created, answered or resolved in the period its
`created_at`, `first_response_at` or `resolved_at` falls in. Response and resolution times
here are wall-clock (`first_response_at - created_at`); business-time SLA figures come from
`sla_stats`. Buckets of days and weeks are UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import Ticket
from persistence.repositories import sla_stats

# Scores are 1-10 (tickets.satisfaction_score); the NPS bands of the usual 0-10 scale.
PROMOTER_MIN = 9
PASSIVE_MIN = 7
# "Satisfied" for CSAT: the top three points of ten, as 4-5 are the top two of five.
SATISFIED_MIN = 8
SCORES = range(1, 11)

EXPORT_ROW_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime


@dataclass(frozen=True, slots=True)
class Slice:
    """Which tickets a figure covers; unset fields do not narrow it."""

    department_id: UUID | None = None
    requester_id: UUID | None = None
    assignee_id: UUID | None = None

    def params(self) -> dict[str, Any]:
        return {
            "department_id": self.department_id,
            "requester_id": self.requester_id,
            "assignee_id": self.assignee_id,
        }


EVERYTHING = Slice()

# Trusted SQL fragments (never built from input).
_SLICE = """t.deleted_at IS NULL
  AND (CAST(:department_id AS uuid) IS NULL OR t.department_id = CAST(:department_id AS uuid))
  AND (CAST(:requester_id AS uuid) IS NULL OR t.requester_id = CAST(:requester_id AS uuid))
  AND (CAST(:assignee_id AS uuid) IS NULL OR t.assignee_id = CAST(:assignee_id AS uuid))"""
_OPEN = "t.status NOT IN ('resolved', 'closed')"


def _in_period(column: str) -> str:
    return f"(t.{column} >= :since AND t.{column} < :until)"


def _params(where: Slice, period: Period | None = None, **more: Any) -> dict[str, Any]:
    params = where.params() | more
    if period is not None:
        params |= {"since": period.since, "until": period.until}
    return params


class Dimension(StrEnum):
    STATUS = "status"
    PRIORITY = "priority"
    DEPARTMENT = "department"
    CATEGORY = "category"
    SOURCE = "source"
    SLA_STATE = "sla_state"


_DIMENSION_KEYS = {
    Dimension.STATUS: "t.status",
    Dimension.PRIORITY: "t.priority",
    Dimension.DEPARTMENT: "t.department_id::text",
    Dimension.CATEGORY: "t.category",
    Dimension.SOURCE: "t.source",
    Dimension.SLA_STATE: "coalesce(t.sla_state, 'none')",
}


async def count_by(
    session: AsyncSession,
    dimension: Dimension,
    where: Slice = EVERYTHING,
    *,
    open_only: bool = False,
    created: Period | None = None,
) -> dict[str, int]:
    """Tickets per value of `dimension`: all, only open ones, or those created in a period."""
    conditions = [_SLICE]
    if open_only:
        conditions.append(_OPEN)
    if created is not None:
        conditions.append(_in_period("created_at"))
    statement = text(
        f"SELECT {_DIMENSION_KEYS[dimension]} AS key, count(*) AS n FROM tickets t "
        f"WHERE {' AND '.join(conditions)} GROUP BY 1 ORDER BY 1"
    )
    rows = (await session.execute(statement, _params(where, created))).all()
    return {row.key: row.n for row in rows}


@dataclass(frozen=True, slots=True)
class Activity:
    created: int
    resolved: int
    closed: int
    reopened: int


_ACTIVITY = f"""
SELECT count(*) FILTER (WHERE {_in_period("created_at")}) AS created,
       count(*) FILTER (WHERE {_in_period("resolved_at")}) AS resolved,
       count(*) FILTER (WHERE {_in_period("closed_at")}) AS closed,
       (SELECT count(DISTINCT a.entity_id) FROM audit_logs a JOIN tickets t ON t.id = a.entity_id
        WHERE a.entity = 'tickets' AND a.after ->> 'status' = 'reopened'
          AND a.occurred_at >= :since AND a.occurred_at < :until AND {_SLICE}) AS reopened
FROM tickets t WHERE {_SLICE}
"""


async def activity(session: AsyncSession, where: Slice, period: Period) -> Activity:
    """How many tickets were created, resolved, closed and reopened in the period."""
    row = (await session.execute(text(_ACTIVITY), _params(where, period))).one()
    return Activity(row.created, row.resolved, row.closed, row.reopened)


@dataclass(frozen=True, slots=True)
class Timings:
    """Wall-clock times to first response and to resolution, for events in the period."""

    first_responses: int = 0
    first_response_median: timedelta | None = None
    first_response_p90: timedelta | None = None
    resolutions: int = 0
    resolution_median: timedelta | None = None
    resolution_p90: timedelta | None = None


def _percentile(fraction: float, event: str) -> str:
    return (
        f"percentile_cont({fraction}) WITHIN GROUP "
        f"(ORDER BY extract(epoch FROM t.{event} - t.created_at)) "
        f"FILTER (WHERE {_in_period(event)})"
    )


_TIMINGS = f"""
count(*) FILTER (WHERE {_in_period("first_response_at")}) AS first_responses,
{_percentile(0.5, "first_response_at")} AS first_response_median,
{_percentile(0.9, "first_response_at")} AS first_response_p90,
count(*) FILTER (WHERE {_in_period("resolved_at")}) AS resolutions,
{_percentile(0.5, "resolved_at")} AS resolution_median,
{_percentile(0.9, "resolved_at")} AS resolution_p90"""


def _seconds(value: Any) -> timedelta | None:
    # extract(epoch ...) is numeric (a Decimal) and percentile_cont a float: take either.
    return None if value is None else timedelta(seconds=round(float(value), 3))


def _timings(row: Any) -> Timings:
    return Timings(
        first_responses=row.first_responses or 0,
        first_response_median=_seconds(row.first_response_median),
        first_response_p90=_seconds(row.first_response_p90),
        resolutions=row.resolutions or 0,
        resolution_median=_seconds(row.resolution_median),
        resolution_p90=_seconds(row.resolution_p90),
    )


async def timings(session: AsyncSession, where: Slice, period: Period) -> Timings:
    statement = text(f"SELECT {_TIMINGS} FROM tickets t WHERE {_SLICE}")
    return _timings((await session.execute(statement, _params(where, period))).one())


@dataclass(frozen=True, slots=True)
class Ratings:
    """Satisfaction scores (1-10) and what they add up to."""

    counts: Mapping[int, int]

    @property
    def responses(self) -> int:
        return sum(self.counts.values())

    @property
    def average(self) -> float | None:
        total = sum(score * n for score, n in self.counts.items())
        return round(total / self.responses, 2) if self.responses else None

    def _share(self, low: int, high: int = 10) -> float | None:
        n = sum(count for score, count in self.counts.items() if low <= score <= high)
        return sla_stats.percent(n, self.responses)

    @property
    def csat(self) -> float | None:
        """Percent of scores that are satisfied (8-10)."""
        return self._share(SATISFIED_MIN)

    @property
    def promoters(self) -> int:
        return sum(n for score, n in self.counts.items() if score >= PROMOTER_MIN)

    @property
    def detractors(self) -> int:
        return sum(n for score, n in self.counts.items() if score < PASSIVE_MIN)

    @property
    def nps(self) -> float | None:
        """Percent promoters (9-10) minus percent detractors (1-6), -100 to 100."""
        return sla_stats.percent(self.promoters - self.detractors, self.responses)


_RATED_IN_PERIOD = (
    "coalesce(t.resolved_at, t.closed_at) >= :since "
    "AND coalesce(t.resolved_at, t.closed_at) < :until"
)


async def ratings(session: AsyncSession, where: Slice, period: Period | None) -> Ratings:
    """Scores of rated tickets (resolved, or closed unresolved, in the period if one is given)."""
    conditions = [_SLICE, "t.satisfaction_score IS NOT NULL"]
    if period is not None:
        conditions.append(_RATED_IN_PERIOD)
    statement = text(
        "SELECT t.satisfaction_score AS score, count(*) AS n FROM tickets t "
        f"WHERE {' AND '.join(conditions)} GROUP BY 1"
    )
    rows = (await session.execute(statement, _params(where, period))).all()
    return Ratings({row.score: row.n for row in rows})


# Open tickets' ages in these bands: (label, lower bound inclusive, upper bound exclusive).
AGE_BANDS: tuple[tuple[str, timedelta, timedelta | None], ...] = (
    ("under_1d", timedelta(0), timedelta(days=1)),
    ("1d_to_3d", timedelta(days=1), timedelta(days=3)),
    ("3d_to_7d", timedelta(days=3), timedelta(days=7)),
    ("7d_to_30d", timedelta(days=7), timedelta(days=30)),
    ("over_30d", timedelta(days=30), None),
)


@dataclass(frozen=True, slots=True)
class Backlog:
    open: int
    median_age: timedelta | None
    oldest_age: timedelta | None
    by_age: dict[str, int]


def _band(label: str, low: timedelta, high: timedelta | None) -> str:
    upper = "" if high is None else f" AND age < interval '{int(high.total_seconds())} seconds'"
    lower = f"age >= interval '{int(low.total_seconds())} seconds'"
    return f'count(*) FILTER (WHERE {lower}{upper}) AS "{label}"'


_BACKLOG = f"""
WITH ages AS (SELECT CAST(:now AS timestamptz) - t.created_at AS age
              FROM tickets t WHERE {_SLICE} AND {_OPEN})
SELECT count(*) AS open,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM age)) AS median_age,
       extract(epoch FROM max(age)) AS oldest_age,
       {", ".join(_band(*band) for band in AGE_BANDS)}
FROM ages
"""


async def backlog(session: AsyncSession, where: Slice, now: datetime) -> Backlog:
    """Open tickets and how long they have been open, as of `now`."""
    row = (await session.execute(text(_BACKLOG), _params(where, now=now))).one()
    return Backlog(
        open=row.open,
        median_age=_seconds(row.median_age),
        oldest_age=_seconds(row.oldest_age),
        by_age={label: getattr(row, label) for label, _, _ in AGE_BANDS},
    )


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class VolumePoint:
    start: date
    created: int
    resolved: int


def _per_bucket(column: str, unit: str) -> str:
    return (
        f"SELECT date_trunc('{unit}', t.{column} AT TIME ZONE 'UTC') AS start, count(*) AS n "
        f"FROM tickets t WHERE {_SLICE} AND {_in_period(column)} GROUP BY 1"
    )


def _volume_query(unit: Bucket) -> str:
    return f"""
WITH buckets AS (
    SELECT generate_series(
        date_trunc('{unit}', CAST(:since AS timestamptz) AT TIME ZONE 'UTC'),
        CAST(:until AS timestamptz) AT TIME ZONE 'UTC' - interval '1 microsecond',
        interval '1 {unit}') AS start
),
created AS ({_per_bucket("created_at", unit)}),
resolved AS ({_per_bucket("resolved_at", unit)})
SELECT b.start::date AS start, coalesce(c.n, 0) AS created, coalesce(r.n, 0) AS resolved
FROM buckets b LEFT JOIN created c USING (start) LEFT JOIN resolved r USING (start)
ORDER BY 1
"""


async def volume(
    session: AsyncSession, where: Slice, period: Period, unit: Bucket
) -> list[VolumePoint]:
    """Tickets created and resolved per UTC day or ISO week of the period, empty ones too."""
    rows = (await session.execute(text(_volume_query(unit)), _params(where, period))).all()
    return [VolumePoint(row.start, row.created, row.resolved) for row in rows]


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """One agent's work: open tickets now, and what they did in the period."""

    id: UUID
    name: str
    email: str
    department_id: UUID | None
    current_load: int
    assigned_open: int
    resolved: int
    timings: Timings
    sla_met: int
    sla_breached: int
    ratings: int
    average_rating: float | None

    @property
    def sla_compliance(self) -> float | None:
        return sla_stats.percent(self.sla_met, self.sla_met + self.sla_breached)


# SLA clocks as in sla_stats, attributed to the ticket's current assignee.
_AGENTS = f"""
WITH {sla_stats.CLOCKS_CTE},
agent_sla AS (
    SELECT t.assignee_id,
           count(*) FILTER (WHERE c.fulfilled AND NOT c.breached) AS met,
           count(*) FILTER (WHERE c.breached) AS breached
    FROM clocks c JOIN tickets t ON t.id = c.ticket_id
    WHERE c.started >= :since AND c.started < :until AND {_SLICE}
    GROUP BY 1
),
figures AS (
    SELECT t.assignee_id,
           count(*) FILTER (WHERE {_OPEN}) AS assigned_open,
           {_TIMINGS},
           count(t.satisfaction_score) FILTER (WHERE {_RATED_IN_PERIOD}) AS ratings,
           avg(t.satisfaction_score) FILTER (WHERE {_RATED_IN_PERIOD}) AS average_rating
    FROM tickets t WHERE {_SLICE} AND t.assignee_id IS NOT NULL
    GROUP BY 1
)
SELECT u.id, u.name, u.email, u.department_id, u.current_load,
       coalesce(f.assigned_open, 0) AS assigned_open, f.first_responses,
       f.first_response_median, f.first_response_p90, f.resolutions, f.resolution_median,
       f.resolution_p90, coalesce(f.ratings, 0) AS ratings, f.average_rating,
       coalesce(s.met, 0) AS sla_met, coalesce(s.breached, 0) AS sla_breached
FROM users u
LEFT JOIN figures f ON f.assignee_id = u.id
LEFT JOIN agent_sla s ON s.assignee_id = u.id
WHERE u.deleted_at IS NULL
  AND (f.assignee_id IS NOT NULL OR (u.role = 'agent' AND (
       CAST(:department_id AS uuid) IS NULL OR u.department_id = CAST(:department_id AS uuid))))
ORDER BY u.name, u.id
"""


async def agents(session: AsyncSession, period: Period, where: Slice) -> list[AgentFigures]:
    """Every agent (of the slice's department, if any) and anyone assigned a ticket in it."""
    rows = (await session.execute(text(_AGENTS), _params(where, period))).all()
    return [
        AgentFigures(
            id=row.id,
            name=row.name,
            email=row.email,
            department_id=row.department_id,
            current_load=row.current_load,
            assigned_open=row.assigned_open,
            resolved=row.resolutions or 0,
            timings=_timings(row),
            sla_met=row.sla_met,
            sla_breached=row.sla_breached,
            ratings=row.ratings,
            average_rating=(
                None if row.average_rating is None else round(float(row.average_rating), 2)
            ),
        )
        for row in rows
    ]


async def tickets_created(
    session: AsyncSession, period: Period, where: Slice, limit: int = EXPORT_ROW_LIMIT
) -> list[Ticket]:
    """The live tickets created in the period, by number: what an export lists."""
    statement = (
        select(Ticket)
        .where(
            Ticket.deleted_at.is_(None),
            Ticket.created_at >= period.since,
            Ticket.created_at < period.until,
        )
        .order_by(Ticket.number)
        .limit(limit)
    )
    for column, value in (
        (Ticket.department_id, where.department_id),
        (Ticket.requester_id, where.requester_id),
        (Ticket.assignee_id, where.assignee_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    return list((await session.scalars(statement)).all())
