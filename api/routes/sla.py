"""`/sla`: policies (admins) and breaches (admins, and agents for their team)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import AdminUser, AgentUser, BroadcasterDep, CurrentUser, SessionDep, TemporalDep
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.sla import (
    BreachedTicket,
    MetricStatsOut,
    SlaPolicyCreate,
    SlaPolicyOut,
    SlaPolicyUpdate,
    SlaStatsOut,
    TicketSlaReport,
)
from api.services import access
from api.services import sla as service
from api.services import sla_policies as policies_service
from api.services import tickets as tickets_service
from domain.broadcasts import Broadcast
from domain.enums import Metric
from domain.errors import InvalidInput, NotFound
from persistence.repositories import sla_policies as policies_repo
from persistence.repositories import sla_stats as stats_repo
from persistence.repositories import tickets as tickets_repo
from persistence.repositories.sla_stats import Grouping

router = APIRouter(prefix=f"{API_PREFIX}/sla", tags=["sla"], responses=PROBLEM_RESPONSES)


@router.post(
    "/policies", status_code=status.HTTP_201_CREATED, summary="Create an SLA policy [Admin]"
)
async def create_policy(
    _: AdminUser, session: SessionDep, broadcaster: BroadcasterDep, body: SlaPolicyCreate
) -> SlaPolicyOut:
    row = await policies_service.create_policy(session, body)
    await session.commit()
    await broadcaster.announce(Broadcast.POLICIES)
    return SlaPolicyOut.model_validate(row)


@router.get("/policies", summary="SLA policies in the order they are tried [Admin]")
async def list_policies(
    _: AdminUser,
    session: SessionDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[SlaPolicyOut]:
    page = await policies_repo.list_policies(session, limit=limit, cursor=cursor)
    items = [SlaPolicyOut.model_validate(p) for p in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/policies/{policy_id}", summary="An SLA policy [Admin]")
async def get_policy(policy_id: UUID, _: AdminUser, session: SessionDep) -> SlaPolicyOut:
    row = await policies_repo.get(session, policy_id)
    if row is None:
        raise NotFound("no such SLA policy")
    return SlaPolicyOut.model_validate(row)


@router.patch(
    "/policies/{policy_id}",
    summary="Change an SLA policy; open tickets re-target at once [Admin]",
)
async def update_policy(
    policy_id: UUID,
    _: AdminUser,
    session: SessionDep,
    broadcaster: BroadcasterDep,
    body: SlaPolicyUpdate,
) -> SlaPolicyOut:
    row = await policies_service.update_policy(session, policy_id, body)
    await session.commit()
    await broadcaster.announce(Broadcast.POLICIES)
    return SlaPolicyOut.model_validate(row)


@router.delete(
    "/policies/{policy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an SLA policy [Admin]",
)
async def delete_policy(
    policy_id: UUID, _: AdminUser, session: SessionDep, broadcaster: BroadcasterDep
) -> Response:
    if not await policies_repo.delete_policy(session, policy_id):
        raise NotFound("no such SLA policy")
    await session.commit()
    await broadcaster.announce(Broadcast.POLICIES)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/breaches", summary="Tickets whose SLA is breached [Admin; agents: their team's]")
async def list_breaches(
    caller: AgentUser,
    session: SessionDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[BreachedTicket]:
    page = await tickets_repo.breaches(
        session, access.ticket_scope(caller), limit=limit, cursor=cursor
    )
    return Page(
        items=[service.breached_ticket(i) for i in page.items], next_cursor=page.next_cursor
    )


@router.get("/breaches/{ticket}", summary="One ticket's SLA clocks and clock events [Auth]")
async def ticket_sla(
    ticket: Annotated[str, Path(max_length=64, description="number or UUID")],
    caller: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> TicketSlaReport:
    found = await tickets_service.find_ticket(session, temporal, caller, ticket)
    return await service.sla_report(session, temporal, found)


_STATS_SPAN = timedelta(days=30)
_MAX_STATS_SPAN = timedelta(days=731)


@router.get("/stats", summary="SLA compliance and median times, by group [Admin]")
async def sla_stats(
    _: AdminUser,
    session: SessionDep,
    group_by: Grouping = Grouping.DEPARTMENT,
    since: datetime | None = None,
    until: datetime | None = None,
    department_id: UUID | None = None,
) -> SlaStatsOut:
    """Met and breached clocks per metric (first response, next response, resolution), the
    compliance percentage and the median business time to fulfil, over clocks started in
    `[since, until)` (default: the last 30 days)."""
    until = until or datetime.now(UTC)
    since = since or until - _STATS_SPAN
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("since and until need a time zone (RFC 3339)")
    if not timedelta(0) < until - since <= _MAX_STATS_SPAN:
        raise InvalidInput("since must be before until, at most two years apart")
    stats = await stats_repo.compliance(session, group_by, since, until, department_id)
    items = [
        MetricStatsOut(
            key=row.key,
            metric=Metric(row.metric),
            met=row.met,
            breached=row.breached,
            compliance=row.compliance,
            median=row.median,
        )
        for row in stats
    ]
    return SlaStatsOut(group_by=group_by.value, since=since, until=until, items=items)
