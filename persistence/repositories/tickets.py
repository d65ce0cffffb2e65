"""Tickets as the read model holds them: lookups, scoped lists, numbers, idempotency keys."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    cast,
    delete,
    false,
    func,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.enums import ClockState, Priority, Role, SlaEventKind, TicketStatus
from domain.errors import InvalidInput
from persistence.models import (
    TICKET_NUMBER_SEQ,
    Attachment,
    AuditAction,
    AuditLog,
    SlaHistory,
    Ticket,
    TicketComment,
    TicketIdempotencyKey,
)
from persistence.models.tickets import COMMENT_SEARCH_SQL, TICKET_SEARCH_SQL
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, clamp_limit, paginate
from persistence.readmodel import recount_load

BY_NUMBER = Keyset((Ticket.number,))
CHRONOLOGICAL = Keyset((TicketComment.created_at, TicketComment.seq), descending=False)
ATTACHMENTS_IN_ORDER = Keyset((Attachment.created_at, Attachment.id), descending=False)


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


async def delete_ticket(
    session: AsyncSession, ticket_id: UUID, actor_id: UUID, reason: str
) -> bool:
    """Remove a ticket's row for good (comments, attachments, SLA history and notifications
    go with it, by their foreign keys); its former assignee's load is recounted and an audit
    row, which has no foreign key to the ticket, records who deleted what."""
    statement = (
        delete(Ticket)
        .where(Ticket.id == ticket_id)
        .returning(
            Ticket.number,
            Ticket.title,
            Ticket.status,
            Ticket.requester_id,
            Ticket.assignee_id,
            Ticket.department_id,
        )
    )
    gone = (await session.execute(statement)).first()
    if gone is None:
        return False
    if gone.assignee_id is not None:
        await recount_load(session, [gone.assignee_id])
    before: dict[str, Any] = {
        "number": gone.number,
        "title": gone.title,
        "status": str(gone.status),
        "requester_id": str(gone.requester_id),
        "assignee_id": str(gone.assignee_id) if gone.assignee_id else None,
        "department_id": str(gone.department_id),
    }
    session.add(
        AuditLog(
            user_id=actor_id,
            action=AuditAction.DELETE,
            entity="tickets",
            entity_id=ticket_id,
            before=before,
            after={"kind": "deleted", "summary": reason},
        )
    )
    await session.flush()
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


# -- attachments ---------------------------------------------------------------------------


async def add_attachment(session: AsyncSession, **values: Any) -> Attachment:
    """Record a stored file against its ticket (a repeat with the same id changes nothing)."""
    statement = insert(Attachment).values(**values).on_conflict_do_nothing(index_elements=["id"])
    await session.execute(statement)
    found = await session.get(Attachment, values["id"])
    assert found is not None
    return found


def _attachments(ticket_id: UUID, *, include_private: bool) -> Select[Attachment]:
    statement = select(Attachment).where(Attachment.ticket_id == ticket_id)
    if include_private:
        return statement
    # A file that came with a private note is as private as the note.
    public_comments = select(TicketComment.id).where(
        TicketComment.ticket_id == ticket_id, TicketComment.private.is_(False)
    )
    return statement.where(
        or_(Attachment.comment_id.is_(None), Attachment.comment_id.in_(public_comments))
    )


async def list_attachments(
    session: AsyncSession,
    ticket_id: UUID,
    *,
    include_private: bool,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Attachment]:
    """A ticket's files, oldest first."""
    statement = _attachments(ticket_id, include_private=include_private)
    return await paginate(session, statement, ATTACHMENTS_IN_ORDER, limit=limit, cursor=cursor)


async def get_attachment(
    session: AsyncSession, ticket_id: UUID, attachment_id: UUID, *, include_private: bool = True
) -> Attachment | None:
    statement = _attachments(ticket_id, include_private=include_private)
    return await session.scalar(statement.where(Attachment.id == attachment_id))


# -- full-text search ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    ticket: Ticket
    rank: float


def _search_cursor(rank: float, number: int) -> str:
    raw = json.dumps([rank, number], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _search_position(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, number = json.loads(raw)
        if type(rank) not in (int, float) or type(number) is not int:
            raise ValueError("wrong shape")
        if not -(2**63) <= number < 2**63:
            raise ValueError("out of range")
        return float(rank), number
    except (ValueError, TypeError, binascii.Error) as error:
        raise InvalidInput("invalid cursor") from error


async def search(
    session: AsyncSession,
    scope: Scope,
    text: str,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[Hit]:
    """Tickets `scope` may see whose title, description or a public comment match `text`
    (web-search syntax: words, "phrases", or, -not), best match first.

    A title match counts twice; a match in public comments only counts half.
    """
    limit = clamp_limit(limit)
    query = func.websearch_to_tsquery("simple", text)
    document: ColumnElement[Any] = literal_column(TICKET_SEARCH_SQL)
    in_comments = (
        select(
            TicketComment.ticket_id,
            func.max(func.ts_rank(literal_column(COMMENT_SEARCH_SQL), query)).label("rank"),
        )
        .where(TicketComment.private.is_(False), literal_column(COMMENT_SEARCH_SQL).op("@@")(query))
        .group_by(TicketComment.ticket_id)
        .subquery("in_comments")
    )
    rank = cast(
        func.ts_rank(document, query)
        + func.ts_rank(func.to_tsvector("simple", Ticket.title), query)
        + 0.5 * func.coalesce(in_comments.c.rank, 0),
        Float(precision=53),
    ).label("rank")
    ranked = (
        _live()
        .add_columns(rank)
        .outerjoin(in_comments, in_comments.c.ticket_id == Ticket.id)
        .where(_visible(scope), or_(document.op("@@")(query), in_comments.c.rank.is_not(None)))
        .subquery("ranked")
    )
    found = aliased(Ticket, ranked)
    statement = select(found, ranked.c.rank)
    if cursor:
        after_rank, after_number = _search_position(cursor)
        statement = statement.where(
            tuple_(ranked.c.rank, ranked.c.number) < tuple_(after_rank, after_number)
        )
    statement = statement.order_by(ranked.c.rank.desc(), ranked.c.number.desc()).limit(limit + 1)
    rows = (await session.execute(statement)).all()
    hits = [Hit(ticket, float(score)) for ticket, score in rows]
    if len(hits) <= limit:
        return Page(items=hits, next_cursor=None)
    hits = hits[:limit]
    last = hits[-1]
    return Page(items=hits, next_cursor=_search_cursor(last.rank, last.ticket.number))
