"""What each caller sees of their own work: the dashboard and `GET /tickets/stats`.

Requesters see their own tickets; agents their queue (tickets assigned to them); admins the
whole desk on the dashboard, and their own queue in their personal stats.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.reports import (
    AgentDashboard,
    AgentStats,
    DeskDashboard,
    RequesterDashboard,
    RequesterStats,
)
from api.services.reports.figures import backlog_out, ratings_out, sla_compliance, timings_out
from api.services.reports.periods import period_out, start_of_day, start_of_week
from domain.enums import ClockState, Role, TicketStatus
from persistence.models import User
from persistence.repositories import reports as repo
from persistence.repositories.reports import EVERYTHING, Dimension, Period, Slice

_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


def _open(by_status: dict[str, int]) -> int:
    return sum(n for status, n in by_status.items() if status not in _DONE)


async def requester_dashboard(session: AsyncSession, user: User) -> RequesterDashboard:
    by_status = await repo.count_by(session, Dimension.STATUS, Slice(requester_id=user.id))
    return RequesterDashboard(
        total=sum(by_status.values()), open=_open(by_status), by_status=by_status
    )


async def agent_dashboard(session: AsyncSession, user: User, now: datetime) -> AgentDashboard:
    mine = Slice(assignee_id=user.id)
    by_status = await repo.count_by(session, Dimension.STATUS, mine, open_only=True)
    by_sla = await repo.count_by(session, Dimension.SLA_STATE, mine, open_only=True)
    today = await repo.activity(session, mine, Period(start_of_day(now), now))
    week = await repo.activity(session, mine, Period(start_of_week(now), now))
    return AgentDashboard(
        assigned_open=sum(by_status.values()),
        by_status=by_status,
        by_priority=await repo.count_by(session, Dimension.PRIORITY, mine, open_only=True),
        sla_at_risk=by_sla.get(ClockState.AT_RISK.value, 0),
        sla_breached=by_sla.get(ClockState.BREACHED.value, 0),
        resolved_today=today.resolved,
        resolved_this_week=week.resolved,
    )


async def desk_dashboard(session: AsyncSession, period: Period, now: datetime) -> DeskDashboard:
    by_status = await repo.count_by(session, Dimension.STATUS, EVERYTHING, open_only=True)
    activity = await repo.activity(session, EVERYTHING, period)
    return DeskDashboard(
        period=period_out(period),
        open=sum(by_status.values()),
        open_by_status=by_status,
        open_by_priority=await repo.count_by(session, Dimension.PRIORITY, open_only=True),
        open_by_department=await repo.count_by(session, Dimension.DEPARTMENT, open_only=True),
        created=activity.created,
        resolved=activity.resolved,
        sla=await sla_compliance(session, period, None),
        backlog=backlog_out(await repo.backlog(session, EVERYTHING, now)),
    )


async def dashboard(
    session: AsyncSession, user: User, period: Period, now: datetime
) -> RequesterDashboard | AgentDashboard | DeskDashboard:
    if user.role is Role.ADMIN:
        return await desk_dashboard(session, period, now)
    if user.role is Role.AGENT:
        return await agent_dashboard(session, user, now)
    return await requester_dashboard(session, user)


async def requester_stats(session: AsyncSession, user: User) -> RequesterStats:
    mine = Slice(requester_id=user.id)
    by_status = await repo.count_by(session, Dimension.STATUS, mine)
    given = await repo.ratings(session, mine, None)
    return RequesterStats(
        opened=sum(by_status.values()),
        open=_open(by_status),
        resolved=sum(by_status.get(status, 0) for status in _DONE),
        ratings_given=given.responses,
        average_rating_given=given.average,
    )


async def agent_stats(session: AsyncSession, user: User, period: Period) -> AgentStats:
    mine = Slice(assignee_id=user.id)
    by_status = await repo.count_by(session, Dimension.STATUS, mine, open_only=True)
    timings = await repo.timings(session, mine, period)
    return AgentStats(
        period=period_out(period),
        assigned_open=sum(by_status.values()),
        resolved=timings.resolutions,
        timings=timings_out(timings),
        ratings=ratings_out(await repo.ratings(session, mine, period)),
    )


async def personal_stats(
    session: AsyncSession, user: User, period: Period
) -> RequesterStats | AgentStats:
    if user.role.is_staff:
        return await agent_stats(session, user, period)
    return await requester_stats(session, user)
