"""Tickets as the read model holds them: lookups, scoped lists, numbers, idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import NamedTuple
from uuid import UUID

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import ClockState, Priority, Role, SlaEventKind, TicketStatus
from persistence.models import (
    TICKET_NUMBER_SEQ,
    SlaHistory,
    Ticket,
    TicketComment,
    TicketIdempotencyKey,
)
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate
from persistence.readmodel import recount_load

BY_NUMBER = Keyset((Ticket.number,))
CHRONOLOGICAL = Keyset((TicketComment.created_at, TicketComment.seq), descending=False)


@dataclass(frozen=True, slots=True)
class AllTickets:
    """An admin's view."""


@dataclass(frozen=True, slots=True)
class OwnTickets:
    """A requester's view: the tickets they opened."""

    requester_id: UUID


@dataclass(frozen=True, slots=True)
class TeamTickets:
    """An agent's view: their departments' tickets, and any assigned to or opened by them."""

    agent_id: UUID
    department_ids: frozenset[UUID] = field(default_factory=frozenset)


Scope = AllTickets | OwnTickets | TeamTickets


def scope_for(user_id: UUID, role: Role, department_ids: Iterable[UUID] = ()) -> Scope:
    if role is Role.ADMIN:
        return AllTickets()
    if role is Role.AGENT:
        return TeamTickets(user_id, frozenset(department_ids))
    return OwnTickets(user_id)


def _visible(scope: Scope) -> ColumnElement[bool]:
    if isinstance(scope, AllTickets):
        return true()
    if isinstance(scope, OwnTickets):
        return Ticket.requester_id == scope.requester_id
    department = Ticket.department_id.in_(scope.department_ids) if scope.department_ids else false()
    return or_(
        department, Ticket.assignee_id == scope.agent_id, Ticket.requester_id == scope.agent_id
    )


def can_see(scope: Scope, ticket: Ticket) -> bool:
    """The in-memory twin of the list filter, for a ticket already loaded."""
    if isinstance(scope, AllTickets):
        return True
    if isinstance(scope, OwnTickets):
        return ticket.requester_id == scope.requester_id
    return ticket.department_id in scope.department_ids or scope.agent_id in (
        ticket.assignee_id,
        ticket.requester_id,
    )


@dataclass(frozen=True, slots=True)
class TicketFilters:
    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee_id: UUID | None = None
    department_id: UUID | None = None
    requester_id: UUID | None = None
    sla_state: ClockState | None = None

    def apply(self, statement: Select[Ticket]) -> Select[Ticket]:
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if value is not None:
                statement = statement.where(getattr(Ticket, name) == value)
        return statement


def _live() -> Select[Ticket]:
    return select(Ticket).where(Ticket.deleted_at.is_(None))


async def get(session: AsyncSession, ticket_id: UUID) -> Ticket | None:
    return await session.scalar(_live().where(Ticket.id == ticket_id))


async def get_by_number(session: AsyncSession, number: int) -> Ticket | None:
    return await session.scalar(_live().where(Ticket.number == number))


async def get_by_ref(session: AsyncSession, ref: str) -> Ticket | None:
    """A ticket by the path's `{ticket}`: its UUID or its number."""
    if ref.isdigit():
        return await get_by_number(session, int(ref))
    try:
        return await get(session, UUID(ref))
    except ValueError:
        return None


async def list_tickets(
    session: AsyncSession,
    scope: Scope,
    filters: TicketFilters = TicketFilters(),
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Ticket]:
    """The tickets `scope` may see, newest (highest number) first."""
    statement = filters.apply(_live().where(_visible(scope)))
    return await paginate(session, statement, BY_NUMBER, limit=limit, cursor=cursor)


async def soft_delete(session: AsyncSession, ticket_id: UUID) -> bool:
    """Hide a ticket from every list; its assignee's load no longer counts it."""
    statement = (
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.deleted_at.is_(None))
        .values(deleted_at=func.now())
        .returning(Ticket.assignee_id)
    )
    found = (await session.execute(statement)).first()
    if found is None:
        return False
    if found.assignee_id is not None:
        await recount_load(session, [found.assignee_id])
    return True


async def reserve_number(session: AsyncSession) -> int:
    """The next ticket number, taken before the ticket's workflow starts (never reused)."""
    number = await session.scalar(select(TICKET_NUMBER_SEQ.next_value()))
    assert number is not None
    return int(number)


class IdempotencyClaim(NamedTuple):
    ticket_number: int
    claimed: bool  # False: the key was already taken, `ticket_number` is the earlier ticket's


async def ticket_number_for_key(session: AsyncSession, requester_id: UUID, key: str) -> int | None:
    """The ticket number an `Idempotency-Key` was already used for, if any."""
    return await session.scalar(
        select(TicketIdempotencyKey.ticket_number).where(
            TicketIdempotencyKey.requester_id == requester_id, TicketIdempotencyKey.key == key
        )
    )


async def claim_idempotency_key(
    session: AsyncSession, requester_id: UUID, key: str, ticket_number: int
) -> IdempotencyClaim:
    """Bind `key` to `ticket_number` unless a concurrent or earlier request already did.

    Of two racing claims, the second waits for the first to commit and then gets its number.
    """
    statement = (
        insert(TicketIdempotencyKey)
        .values(requester_id=requester_id, key=key, ticket_number=ticket_number)
        .on_conflict_do_nothing(index_elements=["requester_id", "key"])
        .returning(TicketIdempotencyKey.ticket_number)
    )
    if (await session.scalar(statement)) is not None:
        return IdempotencyClaim(ticket_number, claimed=True)
    earlier = await ticket_number_for_key(session, requester_id, key)
    assert earlier is not None  # the conflicting row is committed, or we would not be here
    return IdempotencyClaim(earlier, claimed=False)


async def list_comments(
    session: AsyncSession,
    ticket_id: UUID,
    *,
    include_private: bool,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[TicketComment]:
    """A ticket's comments in conversation order (oldest first)."""
    statement = select(TicketComment).where(TicketComment.ticket_id == ticket_id)
    if not include_private:
        statement = statement.where(TicketComment.private.is_(False))
    return await paginate(session, statement, CHRONOLOGICAL, limit=limit, cursor=cursor)


async def sla_history(session: AsyncSession, ticket_id: UUID) -> list[SlaHistory]:
    """Every SLA clock event of a ticket, in ticket time."""
    statement = (
        select(SlaHistory)
        .where(SlaHistory.ticket_id == ticket_id)
        .order_by(SlaHistory.occurred_at, SlaHistory.id)
    )
    return list(await session.scalars(statement))


@dataclass(frozen=True, slots=True)
class TicketBreaches:
    ticket: Ticket
    breaches: list[SlaHistory]


async def breaches(
    session: AsyncSession,
    scope: Scope = AllTickets(),
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[TicketBreaches]:
    """Tickets whose SLA is breached now, newest first, each with its breach events."""
    statement = _live().where(_visible(scope), Ticket.sla_state == ClockState.BREACHED)
    page = await paginate(session, statement, BY_NUMBER, limit=limit, cursor=cursor)
    events: dict[UUID, list[SlaHistory]] = {ticket.id: [] for ticket in page.items}
    if events:
        found = await session.scalars(
            select(SlaHistory)
            .where(SlaHistory.ticket_id.in_(events), SlaHistory.event == SlaEventKind.BREACHED)
            .order_by(SlaHistory.occurred_at, SlaHistory.id)
        )
        for event in found:
            events[event.ticket_id].append(event)
    items = [TicketBreaches(ticket, events[ticket.id]) for ticket in page.items]
    return Page(items=items, next_cursor=page.next_cursor)
