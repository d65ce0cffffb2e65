"""Tickets: opening them as workflows, reading them, and driving them with workflow updates.

Reads come from the PostgreSQL read model (falling back to the workflow while a brand-new
ticket's row is not written yet); every change is a validated update on the ticket's workflow,
whose answer (the ticket after the change) is what the caller gets back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle, WorkflowQueryRejectedError
from temporalio.common import QueryRejectCondition, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import EngineUnavailableError
from api.schemas.common import Page
from api.schemas.tickets import TicketCreate, TicketEdit, TicketHit
from api.services import access
from domain.automation import RuleBook, open_with_rules
from domain.calendars import ticket_years
from domain.enums import ClockState, Role, UserStatus
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.lifecycle import priority_for
from domain.messages import EditInput, HistoryQuery, TicketWorkflowInput
from domain.policies import SlaPolicy, TicketFacts, select_policy
from domain.rules import Rule
from domain.sla import PolicyTerms
from domain.ticket import DepartmentTerms, HistoryEntry, TicketDraft
from domain.views import SlaView, TicketView, ticket_view
from persistence import in_force
from persistence.models import Ticket, User
from persistence.repositories import automation_rules as rules_repo
from persistence.repositories import calendars as calendars_repo
from persistence.repositories import departments as departments_repo
from persistence.repositories import tickets as tickets_repo
from persistence.repositories import users as users_repo
from ticketflow.settings import Settings

log = logging.getLogger(__name__)

WORKFLOW_TYPE = "TicketWorkflow"
MAX_TICKET_NUMBER = 2**63 - 1
# Ids of tickets opened with an Idempotency-Key derive from the caller and the key, so a
# retry racing the first request builds the very same ticket.
_IDEMPOTENT_TICKET_NS = UUID("3c1d6a0e-8f0b-4d8e-a7d2-5b9e0f6a4c11")

# How long a request waits on a ticket's workflow (an update or a query needs a worker).
ENGINE_TIMEOUT_S = 30.0


@asynccontextmanager
async def engine_deadline() -> AsyncIterator[None]:
    """Bound a call to Temporal: without a worker an update or query would wait for ever."""
    try:
        async with asyncio.timeout(ENGINE_TIMEOUT_S):
            yield
    except TimeoutError as error:
        raise EngineUnavailableError("the ticket engine did not answer in time") from error


def keyed_ticket_id(caller_id: UUID, idempotency_key: str) -> UUID:
    return uuid5(_IDEMPOTENT_TICKET_NS, f"{caller_id}/{idempotency_key}")


def utcnow() -> datetime:
    return datetime.now(UTC)


def workflow_id(number: int) -> str:
    return f"ticket-{number}"


async def start_ticket_workflow(
    client: Client, settings: Settings, draft: TicketDraft, rules: Sequence[Rule] = ()
) -> WorkflowHandle[Any, Any]:
    """Start the ticket's workflow; starting it again (a retry) finds the running one."""
    return await client.start_workflow(
        WORKFLOW_TYPE,
        TicketWorkflowInput(draft=draft, rules=list(rules)),
        id=workflow_id(draft.number),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A ticket number names one ticket forever, even after its workflow has finished.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"#{draft.number} {draft.priority.value} {draft.title}"[:400],
    )


# -- references ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketRef:
    """A ticket the caller may see: its number (the workflow's key) and how it looks now."""

    number: int
    view: TicketView
    row: Ticket | None


def parse_ref(ref: str) -> int | UUID:
    """`{ticket}` in a path: a number or a UUID; anything else is invalid input."""
    if ref.isascii() and ref.isdigit():
        number = int(ref)
        if 0 < number <= MAX_TICKET_NUMBER:
            return number
    else:
        try:
            return UUID(ref)
        except ValueError:
            pass
    raise InvalidInput("a ticket is named by its number or its UUID")


def view_from_row(row: Ticket, now: datetime) -> TicketView:
    """The ticket as the read model last saw it, its running SLA clocks brought up to `now`."""
    data = {
        column: getattr(row, column)
        for column in TicketView.model_fields
        if column not in ("metadata", "sla")
    }
    sla = SlaView.model_validate(row.sla or {"policy": None})
    return TicketView(**data, metadata=row.metadata_, sla=live_sla(sla, now))


def live_sla(sla: SlaView, now: datetime) -> SlaView:
    """A stored SLA snapshot as of `now`: a running clock's remaining time follows its deadline."""
    updates = {}
    for name in ("first_response", "next_response", "resolution"):
        metric = getattr(sla, name)
        if metric is None or metric.target_at is None:
            continue  # stopped or paused: nothing moves
        remaining = metric.target_at - now
        elapsed = metric.elapsed + (metric.remaining - remaining)
        state = metric.state
        if state in (ClockState.OK, ClockState.AT_RISK) and remaining <= timedelta(0):
            state = ClockState.BREACHED
        updates[name] = metric.model_copy(
            update={"remaining": remaining, "elapsed": elapsed, "state": state}
        )
    return sla.model_copy(update=updates)


async def find_ticket(
    session: AsyncSession, client: Client, caller: User, ref: str, now: datetime | None = None
) -> TicketRef:
    """The ticket `ref` names, if the caller may see it; 404 otherwise (existence never leaks).

    It ends the session's transaction (read-only up to here in every caller): a caller goes
    on to wait on the ticket's workflow, and must not keep a pooled connection meanwhile —
    the worker needs connections to answer it.
    """
    now = now or datetime.now(UTC)
    key = parse_ref(ref)
    if isinstance(key, int):
        row = await tickets_repo.get_by_number(session, key)
    else:
        row = await tickets_repo.get(session, key)
    await session.commit()
    if row is not None:
        view = view_from_row(row, now)
    elif isinstance(key, int):
        found = await _query_new_ticket(client, key)
        if found is None:
            raise NotFound(f"no ticket {ref}")
        view = found
    else:
        raise NotFound(f"no ticket {ref}")
    if not access.can_see(access.ticket_scope(caller), view):
        raise NotFound(f"no ticket {ref}")
    return TicketRef(number=view.number, view=view, row=row)


async def _query_new_ticket(client: Client, number: int) -> TicketView | None:
    """A ticket not in the read model yet, straight from its workflow (None if none)."""
    try:
        async with engine_deadline():
            view: TicketView = await client.get_workflow_handle(workflow_id(number)).query(
                "ticket",
                result_type=TicketView,
                # A ticket with no row and no running workflow was deleted (terminated).
                reject_condition=QueryRejectCondition.NOT_OPEN,
            )
    except WorkflowQueryRejectedError:
        return None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    return view


# -- opening ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    ticket: TicketView
    created: bool  # False: an earlier request with the same Idempotency-Key made it


async def _requester(session: AsyncSession, caller: User, requester_id: UUID | None) -> User:
    if requester_id is None or requester_id == caller.id:
        return caller
    if not caller.role.is_staff:
        raise Forbidden("only agents and admins can open a ticket for someone else")
    requester = await users_repo.get(session, requester_id)
    if requester is None or requester.status is UserStatus.INACTIVE:
        raise InvalidInput(f"no active user {requester_id}")
    return requester


async def check_assignee(session: AsyncSession, assignee_id: UUID) -> User:
    """An assignee must be an active agent or admin."""
    assignee = await users_repo.get(session, assignee_id)
    if (
        assignee is None
        or assignee.role not in (Role.AGENT, Role.ADMIN)
        or assignee.status is not UserStatus.ACTIVE
    ):
        raise InvalidInput("the assignee must be an active agent or admin")
    return assignee


async def _department(session: AsyncSession, department_id: UUID | None) -> DepartmentTerms:
    if department_id is not None:
        terms = await departments_repo.terms(session, department_id)
        if terms is None:
            raise InvalidInput(f"no department {department_id}")
        return terms
    first = await _first_department(session)
    if first is None:
        raise InvalidInput("there is no department yet: an admin must create one first")
    terms = await departments_repo.terms(session, first)
    assert terms is not None
    return terms


async def _first_department(session: AsyncSession) -> UUID | None:
    """The oldest department: where tickets go when the requester names none."""
    oldest: tuple[datetime, UUID] | None = None
    cursor: str | None = None
    while True:
        page = await departments_repo.list_departments(session, limit=200, cursor=cursor)
        for department in page.items:
            key = (department.created_at, department.id)
            oldest = key if oldest is None or key < oldest else oldest
        cursor = page.next_cursor
        if cursor is None:
            return oldest[1] if oldest else None


async def build_draft(
    session: AsyncSession,
    caller: User,
    body: TicketCreate,
    *,
    ticket_id: UUID,
    number: int,
    now: datetime,
) -> TicketDraft:
    """Everything the new ticket's workflow starts from: department terms, SLA policy…"""
    requester = await _requester(session, caller, body.requester_id)
    if body.assignee_id is not None:
        access.check_staff(caller, "assign a ticket")
        await check_assignee(session, body.assignee_id)
    department = await _department(session, body.department_id)
    priority = body.priority or priority_for(body.urgency, body.impact)
    facts = TicketFacts(
        department_id=department.id,
        category=body.category,
        priority=priority,
        requester_role=requester.role,
    )
    policies = await in_force.enabled_policies(session)
    policy = select_policy(policies, facts)
    return TicketDraft(
        id=ticket_id,
        number=number,
        title=body.title,
        description=body.description,
        requester_id=requester.id,
        requester_role=requester.role,
        department=department,
        category=body.category,
        subcategory=body.subcategory,
        priority=priority,
        urgency=body.urgency,
        impact=body.impact,
        source=body.source,
        tags=body.tags,
        metadata=body.metadata,
        assignee_id=body.assignee_id,
        policy=await _policy_terms(session, policy, now),
        created_at=now,
    )


async def _policy_terms(
    session: AsyncSession, policy: SlaPolicy | None, now: datetime
) -> PolicyTerms | None:
    if policy is None:
        return None
    terms = policy.terms()
    if policy.calendar_id is None:
        return terms
    # The calendar is copied into the ticket (holidays resolved for the years it may stay
    # open), so its deadlines replay the same whatever is edited later.
    years = ticket_years(now)
    calendar = await calendars_repo.terms(session, policy.calendar_id, years)
    return PolicyTerms.model_validate({**terms.model_dump(), "calendar": calendar})


async def open_new_ticket(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    caller: User,
    body: TicketCreate,
    idempotency_key: str | None = None,
    before_start: Callable[[], Awaitable[None]] | None = None,
) -> Opened:
    """Reserve a number, then start the ticket's workflow; answer the ticket as it opened.

    With an `Idempotency-Key`, the key is bound to the number before the workflow starts; a
    repeat (or a concurrent twin) of the request finds that binding and answers that ticket.
    `before_start` runs once the new ticket is valid, just before it opens, and never for a
    repeat: where a quota counts it (raising refuses the ticket, and nothing is kept).
    """
    now = datetime.now(UTC)
    if idempotency_key is None:
        ticket_id, number = uuid4(), await tickets_repo.reserve_number(session)
    else:
        ticket_id = keyed_ticket_id(caller.id, idempotency_key)
        number, fresh = await _number_for_key(session, caller.id, idempotency_key)
        if not fresh:
            await session.commit()
            view = await _replay(session, client, settings, caller, body, ticket_id, number, now)
            return Opened(view, created=False)
    draft = await build_draft(session, caller, body, ticket_id=ticket_id, number=number, now=now)
    rules = await rules_repo.enabled_rules(session)
    if before_start is not None:
        await before_start()
    # Commit the claim before starting: a concurrent retry waits on it, then finds our number.
    await session.commit()
    async with engine_deadline():
        await start_ticket_workflow(client, settings, draft, rules)
    state, _ = open_with_rules(draft, RuleBook(rules))
    return Opened(ticket_view(state, now), created=True)


async def _number_for_key(session: AsyncSession, caller_id: UUID, key: str) -> tuple[int, bool]:
    """The ticket number bound to `key`, and whether this request just bound it."""
    earlier = await tickets_repo.ticket_number_for_key(session, caller_id, key)
    if earlier is not None:
        return earlier, False
    reserved = await tickets_repo.reserve_number(session)
    claim = await tickets_repo.claim_idempotency_key(session, caller_id, key, reserved)
    return claim.ticket_number, claim.claimed


async def _replay(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    caller: User,
    body: TicketCreate,
    ticket_id: UUID,
    number: int,
    now: datetime,
) -> TicketView:
    """The ticket an earlier request with the same key opened (starting it if that one died)."""
    row = await tickets_repo.get_by_number(session, number)
    if row is not None:
        return view_from_row(row, now)
    draft = await build_draft(session, caller, body, ticket_id=ticket_id, number=number, now=now)
    rules = await rules_repo.enabled_rules(session)
    try:
        async with engine_deadline():
            handle = await start_ticket_workflow(client, settings, draft, rules)
            view: TicketView = await handle.query("ticket", result_type=TicketView)
    except WorkflowAlreadyStartedError as error:
        raise Conflict("this Idempotency-Key was used for a ticket that is gone") from error
    return view


# -- changing --------------------------------------------------------------------------------


async def update_ticket(
    client: Client, ticket: TicketRef, update: str, payload: BaseModel, *, update_id: str | None
) -> TicketView:
    """Run one validated update on the ticket's workflow; its answer is the ticket after it."""
    handle = client.get_workflow_handle(workflow_id(ticket.number))
    async with engine_deadline():
        view: TicketView = await handle.execute_update(
            update, payload, id=update_id, result_type=TicketView
        )
    return view


async def query_sla(client: Client, ticket: TicketRef) -> SlaView:
    handle = client.get_workflow_handle(workflow_id(ticket.number))
    try:
        async with engine_deadline():
            sla: SlaView = await handle.query("sla", result_type=SlaView)
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        return ticket.view.sla  # the workflow is gone (closed for good): its last word stands
    return sla


async def query_history(
    client: Client, ticket: TicketRef, *, include_private: bool
) -> Sequence[HistoryEntry]:
    handle = client.get_workflow_handle(workflow_id(ticket.number))
    try:
        async with engine_deadline():
            history: list[HistoryEntry] = await handle.query(
                "history",
                HistoryQuery(include_private=include_private),
                result_type=list[HistoryEntry],
            )
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise NotFound("this ticket's timeline is no longer kept") from error
        raise
    return history


async def edit_ticket(
    session: AsyncSession, client: Client, caller: User, ticket: TicketRef, body: TicketEdit
) -> TicketView:
    """Change the ticket's descriptive fields through its workflow's `edit` update.

    A new category may call for another SLA policy: the policies in force go along, and the
    workflow re-selects from them (as on a policy broadcast), keeping the time spent.
    """
    given = body.model_fields_set
    if not caller.role.is_staff:
        if ticket.view.requester_id != caller.id:
            raise Forbidden("only the requester or staff can edit this ticket")
        if given - {"title", "description"}:
            raise Forbidden("requesters can only change the title and description")
    policies = None
    if body.category is not None and body.category != ticket.view.category:
        policies = await in_force.policies_in_force(session, utcnow())
        await session.commit()  # do not hold a pooled connection while the workflow works
    payload = EditInput(
        title=body.title,
        description=body.description,
        category=body.category,
        subcategory=body.subcategory,
        clear_subcategory="subcategory" in given and body.subcategory is None,
        tags=body.tags,
        actor_id=caller.id,
        actor_role=caller.role,
        policies=policies,
    )
    return await update_ticket(client, ticket, "edit", payload, update_id=None)


async def delete_ticket(
    session: AsyncSession, client: Client, caller: User, ticket: TicketRef
) -> None:
    """End the ticket's workflow, then remove its read model (an audit row stays)."""
    reason = f"deleted by {caller.email}"
    handle = client.get_workflow_handle(workflow_id(ticket.number))
    try:
        async with engine_deadline():
            await handle.terminate(reason=reason)
    except RPCError as error:
        # NOT_FOUND: the workflow already finished (closed for good) or was never kept.
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
    await tickets_repo.delete_ticket(session, ticket.view.id, caller.id, reason)
    await session.commit()


async def search_tickets(
    session: AsyncSession, caller: User, text: str, *, limit: int, cursor: str | None
) -> Page[TicketHit]:
    """Full-text search within what the caller may see, best match first."""
    page = await tickets_repo.search(
        session, access.ticket_scope(caller), text, limit=limit, cursor=cursor
    )
    now = utcnow()
    items = [
        TicketHit(**view_from_row(hit.ticket, now).model_dump(), rank=hit.rank)
        for hit in page.items
    ]
    return Page(items=items, next_cursor=page.next_cursor)
