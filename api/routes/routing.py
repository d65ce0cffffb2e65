"""Routing endpoints under `/users` (capacity, skills, workload) and `/tickets` (bulk changes).

Included before the users and tickets routers: `/users/agents/available` must be matched
here before `/users/{user_id}` could claim it.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import AdminUser, AgentUser, CurrentUser, SessionDep, TemporalDep
from api.paths import API_PREFIX
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.routing import (
    AgentOut,
    BulkAssign,
    BulkResult,
    BulkSkills,
    BulkStatus,
    CapacityChange,
    Category,
    Workload,
)
from api.services import routing as service
from persistence import routing as routing_repo

users_router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"])
tickets_router = APIRouter(prefix=f"{API_PREFIX}/tickets", tags=["tickets"])


@users_router.get(
    "/agents/available",
    summary="Agents who can take new work, in the order routing picks them [Agent]",
)
async def list_available_agents(
    _: AgentUser,
    session: SessionDep,
    department_id: UUID | None = None,
    category: Annotated[Category | None, Query(description="only agents who cover it")] = None,
) -> list[AgentOut]:
    agents = await routing_repo.available_agents(
        session, department_id=department_id, category=category
    )
    return [AgentOut.model_validate(agent) for agent in agents]


@users_router.get("/{user_id}/workload", summary="A user's load and open tickets [Admin, or self]")
async def get_workload(user_id: UUID, caller: CurrentUser, session: SessionDep) -> Workload:
    return await service.workload(session, caller, user_id)


@users_router.patch("/{user_id}/capacity", summary="Set how many open tickets to route [Admin]")
async def set_capacity(
    user_id: UUID, _: AdminUser, session: SessionDep, body: CapacityChange
) -> AgentOut:
    user = await service.set_capacity(session, user_id, body.max_load)
    await session.commit()
    return AgentOut.model_validate(user)


@users_router.post("/bulk-assign-skills", summary="Add or set skills of many users [Admin]")
async def bulk_assign_skills(_: AdminUser, session: SessionDep, body: BulkSkills) -> list[AgentOut]:
    users = await service.assign_skills(session, body)
    await session.commit()
    return [AgentOut.model_validate(user) for user in users]


@tickets_router.post("/bulk-assign", summary="Assign many tickets, one result each [Agent]")
async def bulk_assign(
    body: BulkAssign, caller: AgentUser, session: SessionDep, temporal: TemporalDep
) -> BulkResult:
    return await service.bulk_assign(session, temporal, caller, body)


@tickets_router.post("/bulk-status", summary="Move many tickets, one result each [Admin]")
async def bulk_status(
    body: BulkStatus, caller: AdminUser, session: SessionDep, temporal: TemporalDep
) -> BulkResult:
    return await service.bulk_status(session, temporal, caller, body)


router = APIRouter(responses=PROBLEM_RESPONSES)
router.include_router(users_router)
router.include_router(tickets_router)
