"""Routing work: capacity, skills, workload, and changing many tickets at once.

A bulk change is the single-ticket change repeated: each ticket is found with the caller's
access (`tickets.find_ticket`) and changed by one workflow update (`tickets.update_ticket`);
one ticket's failure is reported in its result and never fails the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError

from api.errors import ApiError, EngineUnavailableError, error_from_rpc, error_from_update
from api.schemas.routing import (
    MAX_SKILLS,
    BulkAssign,
    BulkResult,
    BulkSkills,
    BulkStatus,
    SkillsMode,
    TicketResult,
    Workload,
)
from api.services import access
from api.services import tickets as tickets_service
from api.services import users as users_service
from domain.enums import Priority, Role, TicketStatus
from domain.errors import (
    Conflict,
    Forbidden,
    IllegalTransition,
    InvalidInput,
    NotFound,
    TicketflowError,
)
from domain.messages import AssignInput, SetStatusInput
from persistence import routing
from persistence.models import User
from persistence.readmodel import recount_load

# Workflow updates of one batch in flight at once: enough to hide round trips, few enough
# not to crowd out other requests on the same workers.
_CONCURRENT_UPDATES = 8

# -- capacity, skills, workload -------------------------------------------------------------


async def set_capacity(session: AsyncSession, user_id: UUID, max_load: int) -> User:
    user = await routing.set_max_load(session, user_id, max_load)
    if user is None:
        raise NotFound("no such user")
    return user


def merge_skills(current: Iterable[str], extra: Iterable[str]) -> list[str]:
    """`current` then the `extra` skills it lacks; skills differing only in case are one."""
    merged: dict[str, str] = {}
    for skill in (*current, *extra):
        merged.setdefault(skill.lower(), skill)
    return list(merged.values())


async def assign_skills(session: AsyncSession, body: BulkSkills) -> list[User]:
    """Give every user in the batch the skills, or change nobody (422) if one is unknown."""
    users = await routing.lock_users(session, body.user_ids)
    missing = [str(user_id) for user_id in body.user_ids if user_id not in users]
    if missing:
        raise InvalidInput(f"no such users: {', '.join(missing)}")
    for user in users.values():
        kept = user.skills if body.mode is SkillsMode.ADD else []
        skills = merge_skills(kept, body.skills)
        if len(skills) > MAX_SKILLS:
            raise InvalidInput(f"user {user.id} would have more than {MAX_SKILLS} skills")
        user.skills = skills
    await session.flush()
    return [users[user_id] for user_id in body.user_ids]


def check_workload_access(caller: User, user_id: UUID) -> None:
    if caller.role is Role.ADMIN or (caller.role is Role.AGENT and caller.id == user_id):
        return
    raise Forbidden("only admins, and agents for themselves, can see a workload")


async def workload(session: AsyncSession, caller: User, user_id: UUID) -> Workload:
    """A user's load and capacity, and their open tickets by status and priority."""
    check_workload_access(caller, user_id)
    user = await users_service.get_user(session, user_id)
    by_status = {status: 0 for status in TicketStatus if status.is_open}
    by_priority = dict.fromkeys(Priority, 0)
    for status, priority, count in await routing.open_ticket_counts(session, user_id):
        by_status[status] += count
        by_priority[priority] += count
    return Workload(
        user_id=user.id,
        current_load=user.current_load,
        max_load=user.max_load,
        open_tickets=sum(by_status.values()),
        by_status=by_status,
        by_priority=by_priority,
    )


# -- bulk ticket changes --------------------------------------------------------------------


def _as_business_error(error: Exception) -> TicketflowError | None:
    """The API error a single-ticket call would have answered `error` with, if it is one."""
    if isinstance(error, TicketflowError):
        return error
    if isinstance(error, WorkflowUpdateFailedError):
        return error_from_update(error)
    if isinstance(error, RPCError):
        return error_from_rpc(error)
    if isinstance(
        error,
        WorkflowUpdateRPCTimeoutOrCancelledError
        | WorkflowQueryFailedError
        | WorkflowQueryRejectedError,
    ):
        return EngineUnavailableError()
    return None


def _failed(ref: str, error: TicketflowError) -> TicketResult:
    allowed: list[str] | None = None
    if isinstance(error, IllegalTransition):
        allowed = error.allowed
    elif isinstance(error, ApiError) and "allowed" in error.extra:
        allowed = list(error.extra["allowed"])
    return TicketResult(
        ticket=ref, ok=False, status=error.status, detail=error.detail, allowed=allowed
    )


@dataclass(frozen=True)
class _Change:
    """One ticket's planned update; `picked`: the agent chosen for it by `pick_agent`."""

    ref: str
    ticket: tickets_service.TicketRef
    update: str
    payload: BaseModel
    picked: UUID | None = None


Plan = Callable[[str], Awaitable[_Change]]


async def _plan_all(refs: Sequence[str], plan: Plan) -> list[_Change | TicketResult]:
    """Each ticket's change, or why it cannot be made; one at a time (one session)."""
    planned: list[_Change | TicketResult] = []
    for ref in refs:
        try:
            planned.append(await plan(ref))
        except Exception as error:
            business = _as_business_error(error)
            if business is None:
                raise
            planned.append(_failed(ref, business))
    return planned


async def _apply(client: Client, change: _Change, limit: asyncio.Semaphore) -> TicketResult:
    try:
        async with limit:
            view = await tickets_service.update_ticket(
                client, change.ticket, change.update, change.payload, update_id=None
            )
    except Exception as error:
        business = _as_business_error(error)
        if business is None:
            raise
        return _failed(change.ref, business)
    return TicketResult(ticket=change.ref, ok=True, status=200, ticket_view=view)


async def _run(
    session: AsyncSession, client: Client, refs: Sequence[str], plan: Plan
) -> BulkResult:
    planned = await _plan_all(refs, plan)
    # Picks are committed (and the connection released) before waiting on any workflow.
    await session.commit()
    limit = asyncio.Semaphore(_CONCURRENT_UPDATES)

    async def outcome(item: _Change | TicketResult) -> TicketResult:
        return item if isinstance(item, TicketResult) else await _apply(client, item, limit)

    results = list(await asyncio.gather(*(outcome(item) for item in planned)))
    # A pick whose assignment failed still counts on its agent: recount to take it back.
    unused = [
        item.picked
        for item, result in zip(planned, results, strict=True)
        if isinstance(item, _Change) and item.picked is not None and not result.ok
    ]
    if unused:
        await recount_load(session, unused)
        await session.commit()
    return BulkResult.of(results)


async def bulk_assign(
    session: AsyncSession, client: Client, caller: User, body: BulkAssign
) -> BulkResult:
    """Assign each ticket to `assignee_id`, or (`auto`) to the agent `pick_agent` chooses."""
    if body.assignee_id is not None:
        await tickets_service.check_assignee(session, body.assignee_id)

    async def plan(ref: str) -> _Change:
        found = await tickets_service.find_ticket(session, client, caller, ref)
        picked = None if body.assignee_id is not None else await _pick_for(session, found)
        assignee_id = body.assignee_id or picked
        payload = AssignInput(assignee_id=assignee_id, actor_id=caller.id)
        return _Change(ref, found, "assign", payload, picked=picked)

    return await _run(session, client, body.tickets, plan)


_BUSY_WAITS = (0.02, 0.05, 0.1, 0.2, 0.4)


async def _pick_for(session: AsyncSession, ticket: tickets_service.TicketRef) -> UUID:
    view = ticket.view
    current = {view.assignee_id} if view.assignee_id else set()
    for wait in _BUSY_WAITS:
        try:
            agent_id = await routing.pick_agent(
                session, view.department_id, view.category, exclude=current
            )
            break
        except routing.RoutingBusy:
            await session.rollback()  # free the department's pick queue while waiting
            await asyncio.sleep(wait)
    else:
        raise Conflict("every agent who fits is being updated right now; try again")
    # Release the department's pick queue now, not at the end of the whole batch.
    await session.commit()
    if agent_id is None:
        raise Conflict(
            f"no online agent of the ticket's department with room covers {view.category!r}"
        )
    return agent_id


async def bulk_status(
    session: AsyncSession, client: Client, caller: User, body: BulkStatus
) -> BulkResult:
    """Move each ticket to `status`; an illegal move is that ticket's 409."""
    access.check_status_allowed(caller, body.status)
    payload = SetStatusInput(status=body.status, note=body.note, actor_id=caller.id)

    async def plan(ref: str) -> _Change:
        found = await tickets_service.find_ticket(session, client, caller, ref)
        return _Change(ref, found, "set_status", payload)

    return await _run(session, client, body.tickets, plan)
