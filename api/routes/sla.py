"""`/sla`: policies (admins) and breaches (admins, and agents for their team)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import AdminUser, AgentUser, CurrentUser, SessionDep, TemporalDep
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.sla import (
    BreachedTicket,
    SlaPolicyCreate,
    SlaPolicyOut,
    SlaPolicyUpdate,
    TicketSlaReport,
)
from api.services import access
from api.services import sla as service
from api.services import sla_policies as policies_service
from api.services import tickets as tickets_service
from domain.errors import NotFound
from persistence.repositories import sla_policies as policies_repo
from persistence.repositories import tickets as tickets_repo

router = APIRouter(prefix=f"{API_PREFIX}/sla", tags=["sla"], responses=PROBLEM_RESPONSES)


@router.post(
    "/policies", status_code=status.HTTP_201_CREATED, summary="Create an SLA policy [Admin]"
)
async def create_policy(
    _: AdminUser, session: SessionDep, temporal: TemporalDep, body: SlaPolicyCreate
) -> SlaPolicyOut:
    row = await policies_service.create_policy(session, body)
    await session.commit()
    await policies_service.broadcast_policies(session, temporal)
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
    policy_id: UUID, _: AdminUser, session: SessionDep, temporal: TemporalDep, body: SlaPolicyUpdate
) -> SlaPolicyOut:
    row = await policies_service.update_policy(session, policy_id, body)
    await session.commit()
    await policies_service.broadcast_policies(session, temporal)
    return SlaPolicyOut.model_validate(row)


@router.delete(
    "/policies/{policy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an SLA policy [Admin]",
)
async def delete_policy(
    policy_id: UUID, _: AdminUser, session: SessionDep, temporal: TemporalDep
) -> Response:
    if not await policies_repo.delete_policy(session, policy_id):
        raise NotFound("no such SLA policy")
    await session.commit()
    await policies_service.broadcast_policies(session, temporal)
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
