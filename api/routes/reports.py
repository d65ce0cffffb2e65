"""`/reports`: the helpdesk's figures, for dashboards and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response, status

from activities.reports import FileFormat
from api.deps import AdminUser, CurrentUser, SessionDep, SettingsDep, TemporalDep
from api.paths import API_PREFIX
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.reports import (
    AgentsReport,
    Dashboard,
    DepartmentStats,
    PerformanceReport,
    PersonalStats,
    SatisfactionReport,
    ScheduleCreate,
    ScheduleOut,
    TicketsReport,
)
from api.services.reports import desk, exports, personal, schedules
from api.services.reports.periods import period_from
from api.services.tickets import utcnow
from persistence.repositories.reports import Bucket, Period

# Paths are absolute under the API prefix: `/reports/...`, `/tickets/stats` and
# `/departments/{department}/stats`.
router = APIRouter(prefix=API_PREFIX, tags=["reports"], responses=PROBLEM_RESPONSES)

Since = Annotated[
    datetime | None, Query(alias="from", description="start, RFC 3339 (default: to - 30 days)")
]
Until = Annotated[datetime | None, Query(alias="to", description="end, exclusive (default: now)")]
DepartmentFilter = Annotated[UUID | None, Query(description="only this department's tickets")]


def _period(since: Since = None, until: Until = None) -> Period:
    """The `from`/`to` query parameters as a period (the last 30 days by default)."""
    return period_from(since, until, utcnow())


PeriodParams = Annotated[Period, Depends(_period)]


@router.get("/reports/dashboard", summary="The caller's dashboard, by role [Auth]")
async def dashboard(caller: CurrentUser, session: SessionDep, period: PeriodParams) -> Dashboard:
    """A requester's own tickets by status; an agent's queue; an admin's whole desk (`view`
    says which). `from`/`to` bound the desk's created-vs-resolved and SLA figures."""
    return await personal.dashboard(session, caller, period, utcnow())


@router.get("/reports/agents", summary="Per-agent load, speed, SLA and ratings [Admin]")
async def agents_report(
    _: AdminUser,
    session: SessionDep,
    period: PeriodParams,
    department_id: DepartmentFilter = None,
) -> AgentsReport:
    return await desk.agents_report(session, period, department_id)


@router.get("/reports/tickets", summary="Ticket volume and breakdowns for a period [Admin]")
async def tickets_report(
    _: AdminUser,
    session: SessionDep,
    period: PeriodParams,
    department_id: DepartmentFilter = None,
    bucket: Annotated[Bucket, Query(description="volume per UTC day or ISO week")] = Bucket.DAY,
) -> TicketsReport:
    return await desk.tickets_report(session, period, department_id, bucket)


@router.get("/reports/satisfaction", summary="CSAT, NPS and the score distribution [Admin]")
async def satisfaction_report(
    _: AdminUser,
    session: SessionDep,
    period: PeriodParams,
    department_id: DepartmentFilter = None,
) -> SatisfactionReport:
    return await desk.satisfaction_report(session, period, department_id)


@router.get("/reports/performance", summary="KPIs: response, resolution, reopens, SLA [Admin]")
async def performance_report(
    _: AdminUser,
    session: SessionDep,
    period: PeriodParams,
    department_id: DepartmentFilter = None,
) -> PerformanceReport:
    return await desk.performance_report(session, period, department_id, utcnow())


@router.get(
    "/reports/export/{file_format}",
    summary="The period's tickets as CSV, XLSX or PDF [Admin]",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/pdf": {}}}},
)
async def export(
    file_format: FileFormat,
    _: AdminUser,
    session: SessionDep,
    period: PeriodParams,
    department_id: DepartmentFilter = None,
) -> Response:
    report = await exports.export_tickets(session, file_format, period, department_id)
    return Response(
        report.content,
        media_type=report.content_type,
        headers={"Content-Disposition": f'attachment; filename="{report.name}"'},
    )


@router.post(
    "/reports/schedule",
    status_code=status.HTTP_201_CREATED,
    summary="Mail a report on a cron timetable or interval [Admin]",
)
async def create_schedule(
    _: AdminUser, temporal: TemporalDep, settings: SettingsDep, body: ScheduleCreate
) -> ScheduleOut:
    return await schedules.create_schedule(temporal, body, settings.task_queue)


@router.get("/reports/schedules", summary="Scheduled reports [Admin]")
async def list_schedules(_: AdminUser, temporal: TemporalDep) -> list[ScheduleOut]:
    return await schedules.list_schedules(temporal)


@router.delete(
    "/reports/schedules/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop a scheduled report [Admin]",
)
async def delete_schedule(
    schedule_id: Annotated[str, Path(max_length=64)], _: AdminUser, temporal: TemporalDep
) -> Response:
    await schedules.delete_schedule(temporal, schedule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tickets/stats", summary="The caller's own ticket figures [Auth]")
async def personal_stats(
    caller: CurrentUser, session: SessionDep, period: PeriodParams
) -> PersonalStats:
    """A requester's tickets opened, open and resolved and the ratings they gave; an agent's
    (or admin's) queue, resolutions, times and ratings over `from`/`to`."""
    return await personal.personal_stats(session, caller, period)


@router.get("/departments/{department_id}/stats", summary="A department's figures [Admin]")
async def department_stats(
    department_id: UUID,
    _: AdminUser,
    session: SessionDep,
    period: PeriodParams,
) -> DepartmentStats:
    return await desk.department_stats(session, department_id, period)
