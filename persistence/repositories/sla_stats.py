"""SLA compliance: how many clocks were met or breached, and how long they took, by group.

Each clock is one (ticket, metric, cycle) in `sla_history`: breached if a breach was
recorded, met if it was fulfilled without one; clocks still running count in neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class Grouping(StrEnum):
    DEPARTMENT = "department"
    PRIORITY = "priority"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


# Trusted SQL fragments by grouping (never built from input).
_GROUP_KEYS = {
    Grouping.DEPARTMENT: "t.department_id::text",
    Grouping.PRIORITY: "t.priority",
    Grouping.DAY: "to_char(date_trunc('day', c.started), 'YYYY-MM-DD')",
    Grouping.WEEK: "to_char(date_trunc('week', c.started), 'YYYY-MM-DD')",
    Grouping.MONTH: "to_char(date_trunc('month', c.started), 'YYYY-MM')",
}

# One row per SLA clock (ticket, metric, cycle): how it ended and when it started.
CLOCKS_CTE = """
clocks AS (
    SELECT h.ticket_id, h.metric, h.cycle,
           bool_or(h.event = 'breached') AS breached,
           bool_or(h.event = 'fulfilled') AS fulfilled,
           max(h.elapsed_seconds) FILTER (WHERE h.event = 'fulfilled') AS elapsed,
           min(h.occurred_at) FILTER (WHERE h.event = 'applied') AS started
    FROM sla_history h
    GROUP BY h.ticket_id, h.metric, h.cycle
)"""

_QUERY = (
    "WITH"
    + CLOCKS_CTE
    + """
SELECT {key} AS key, c.metric,
       count(*) FILTER (WHERE c.fulfilled AND NOT c.breached) AS met,
       count(*) FILTER (WHERE c.breached) AS breached,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.elapsed) AS median_seconds
FROM clocks c JOIN tickets t ON t.id = c.ticket_id
WHERE c.started >= :since AND c.started < :until AND t.deleted_at IS NULL
  AND (CAST(:department_id AS uuid) IS NULL OR t.department_id = CAST(:department_id AS uuid))
GROUP BY 1, 2
ORDER BY 1, 2
"""
)


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, two decimals; None when there is no whole."""
    return round(100 * part / whole, 2) if whole else None


@dataclass(frozen=True)
class MetricStats:
    key: str
    metric: str
    met: int
    breached: int
    median: timedelta | None

    @property
    def compliance(self) -> float | None:
        """Share of decided clocks that were met, in percent; None when none was decided."""
        return percent(self.met, self.met + self.breached)


async def compliance(
    session: AsyncSession,
    grouping: Grouping,
    since: datetime,
    until: datetime,
    department_id: Any = None,
) -> list[MetricStats]:
    statement = text(_QUERY.format(key=_GROUP_KEYS[grouping]))
    params = {"since": since, "until": until, "department_id": department_id}
    rows = (await session.execute(statement, params)).all()
    return [
        MetricStats(
            key=row.key,
            metric=row.metric,
            met=row.met,
            breached=row.breached,
            median=None if row.median_seconds is None else timedelta(seconds=row.median_seconds),
        )
        for row in rows
    ]
