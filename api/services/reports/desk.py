"""The admins' reports over the whole desk or one department."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.reports import (
    AgentsReport,
    DepartmentStats,
    KpiTime,
    PerformanceReport,
    SatisfactionReport,
    TicketsReport,
    VolumePointOut,
)
from api.services.reports.figures import (
    agent_row,
    backlog_out,
    ratings_out,
    sla_compliance,
    timings_out,
)
from api.services.reports.periods import period_out
from domain.errors import NotFound
from persistence.repositories import departments as departments_repo
from persistence.repositories import reports as repo
from persistence.repositories import sla_stats
from persistence.repositories.reports import Bucket, Dimension, Period, Slice


async def agents_report(
    session: AsyncSession, period: Period, department_id: UUID | None
) -> AgentsReport:
    rows = await repo.agents(session, period, Slice(department_id=department_id))
    return AgentsReport(period=period_out(period), items=[agent_row(row) for row in rows])


async def tickets_report(
    session: AsyncSession, period: Period, department_id: UUID | None, bucket: Bucket
) -> TicketsReport:
    where = Slice(department_id=department_id)

    async def by(dimension: Dimension) -> dict[str, int]:
        return await repo.count_by(session, dimension, where, created=period)

    by_status = await by(Dimension.STATUS)
    points = await repo.volume(session, where, period, bucket)
    return TicketsReport(
        period=period_out(period),
        bucket=bucket.value,
        total=sum(by_status.values()),
        volume=[
            VolumePointOut(start=p.start, created=p.created, resolved=p.resolved) for p in points
        ],
        by_status=by_status,
        by_priority=await by(Dimension.PRIORITY),
        by_department=await by(Dimension.DEPARTMENT),
        by_category=await by(Dimension.CATEGORY),
        by_source=await by(Dimension.SOURCE),
    )


async def satisfaction_report(
    session: AsyncSession, period: Period, department_id: UUID | None
) -> SatisfactionReport:
    found = await repo.ratings(session, Slice(department_id=department_id), period)
    return SatisfactionReport(period=period_out(period), ratings=ratings_out(found))


async def performance_report(
    session: AsyncSession, period: Period, department_id: UUID | None, now: datetime
) -> PerformanceReport:
    where = Slice(department_id=department_id)
    activity = await repo.activity(session, where, period)
    timings = await repo.timings(session, where, period)
    return PerformanceReport(
        period=period_out(period),
        created=activity.created,
        resolved=activity.resolved,
        reopened=activity.reopened,
        reopen_rate=sla_stats.percent(activity.reopened, activity.resolved),
        first_response=KpiTime(
            count=timings.first_responses,
            median=timings.first_response_median,
            p90=timings.first_response_p90,
        ),
        resolution=KpiTime(
            count=timings.resolutions,
            median=timings.resolution_median,
            p90=timings.resolution_p90,
        ),
        sla=await sla_compliance(session, period, department_id),
        backlog=backlog_out(await repo.backlog(session, where, now)),
    )


async def department_stats(
    session: AsyncSession, department_id: UUID, period: Period
) -> DepartmentStats:
    department = await departments_repo.get(session, department_id)
    if department is None:
        raise NotFound("no such department")
    where = Slice(department_id=department_id)
    by_status = await repo.count_by(session, Dimension.STATUS, where, open_only=True)
    activity = await repo.activity(session, where, period)
    agents = await repo.agents(session, period, where)
    return DepartmentStats(
        department_id=department.id,
        name=department.name,
        period=period_out(period),
        open=sum(by_status.values()),
        open_by_status=by_status,
        open_by_priority=await repo.count_by(session, Dimension.PRIORITY, where, open_only=True),
        created=activity.created,
        resolved=activity.resolved,
        sla=await sla_compliance(session, period, department_id),
        timings=timings_out(await repo.timings(session, where, period)),
        agents=[agent_row(agent) for agent in agents],
    )
