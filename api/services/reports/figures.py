"""Repository figures in their API shapes, and SLA compliance summed over its groups."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.reports import (
    AgentReportRow,
    BacklogOut,
    MetricComplianceOut,
    RatingsOut,
    SlaComplianceOut,
    TimingsOut,
)
from domain.enums import Metric
from persistence.repositories import sla_stats
from persistence.repositories.reports import (
    SCORES,
    AgentFigures,
    Backlog,
    Period,
    Ratings,
    Timings,
)


def timings_out(timings: Timings) -> TimingsOut:
    return TimingsOut.model_validate(timings, from_attributes=True)


def ratings_out(ratings: Ratings) -> RatingsOut:
    return RatingsOut(
        responses=ratings.responses,
        average=ratings.average,
        csat=ratings.csat,
        nps=ratings.nps,
        promoters=ratings.promoters,
        passives=ratings.responses - ratings.promoters - ratings.detractors,
        detractors=ratings.detractors,
        distribution={str(score): ratings.counts.get(score, 0) for score in SCORES},
    )


def backlog_out(backlog: Backlog) -> BacklogOut:
    return BacklogOut.model_validate(backlog, from_attributes=True)


def agent_row(agent: AgentFigures) -> AgentReportRow:
    return AgentReportRow(
        id=agent.id,
        name=agent.name,
        email=agent.email,
        department_id=agent.department_id,
        current_load=agent.current_load,
        assigned_open=agent.assigned_open,
        resolved=agent.resolved,
        first_response_median=agent.timings.first_response_median,
        resolution_median=agent.timings.resolution_median,
        sla_compliance=agent.sla_compliance,
        ratings=agent.ratings,
        average_rating=agent.average_rating,
    )


async def sla_compliance(
    session: AsyncSession, period: Period, department_id: UUID | None
) -> SlaComplianceOut:
    """`GET /sla/stats`'s clocks (by department), added up per metric and overall."""
    rows = await sla_stats.compliance(
        session, sla_stats.Grouping.DEPARTMENT, period.since, period.until, department_id
    )
    met: defaultdict[str, int] = defaultdict(int)
    breached: defaultdict[str, int] = defaultdict(int)
    for row in rows:
        met[row.metric] += row.met
        breached[row.metric] += row.breached
    metrics = [
        MetricComplianceOut(
            metric=Metric(name),
            met=met[name],
            breached=breached[name],
            compliance=sla_stats.percent(met[name], met[name] + breached[name]),
        )
        for name in sorted(met.keys() | breached.keys())
    ]
    total_met, total_breached = sum(met.values()), sum(breached.values())
    return SlaComplianceOut(
        met=total_met,
        breached=total_breached,
        compliance=sla_stats.percent(total_met, total_met + total_breached),
        metrics=metrics,
    )
