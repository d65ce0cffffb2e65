"""Routing: who should work a ticket, and the capacity, skills and workload behind that choice.

An agent can take a ticket of a department when they belong to it, are an active agent,
are online, are under their `max_load`, and their skills cover the ticket's category (no
skills at all: a generalist, who covers every category). Among those, the least loaded
wins; equal loads take turns, the one picked longest ago (or never) first.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Text,
    any_,
    bindparam,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Availability, Priority, Role, TicketStatus, UserStatus
from persistence.models import Ticket, User, table_of

_users = table_of(User)

# Picks in one department queue behind this transaction-scoped lock (key: this namespace and
# a hash of the department id; a hash collision only makes two departments queue together).
_PICK_LOCK_NAMESPACE = 0x7469_636B  # "tick"

_DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def _can_take(
    department_id: UUID | None, category: str | None, exclude: AbstractSet[UUID] = frozenset()
) -> list[ColumnElement[bool]]:
    """The conditions an agent must meet to be given a new ticket."""
    conditions: list[ColumnElement[bool]] = [
        _users.c.role == Role.AGENT,
        _users.c.status == UserStatus.ACTIVE,
        _users.c.availability == Availability.ONLINE,
        _users.c.deleted_at.is_(None),
        _users.c.current_load < _users.c.max_load,
    ]
    if department_id is not None:
        conditions.append(_users.c.department_id == department_id)
    if category is not None:
        conditions.append(_covers(literal(category, Text)))
    if exclude:
        conditions.append(_users.c.id.not_in(exclude))
    return conditions


def _covers(category: ColumnElement[str]) -> ColumnElement[bool]:
    """No skills (a generalist), or a skill equal to `category` ignoring case."""
    skill = func.unnest(_users.c.skills).table_valued("skill").render_derived()
    has_skill = exists(
        select(1).select_from(skill).where(func.lower(skill.c.skill) == func.lower(category))
    )
    return or_(func.cardinality(_users.c.skills) == 0, has_skill)


# Built once, with parameters: a statement object keeps its cache key, so a pick (one on
# every new unassigned ticket) only binds values instead of building and keying SQL again.
_DEPARTMENT = bindparam("department_id", type_=PG_UUID(as_uuid=True))
_CATEGORY = bindparam("category", type_=Text)
_EXCLUDED = bindparam("exclude", type_=ARRAY(PG_UUID(as_uuid=True)))
_PICK = select(
    func.ticketflow_pick_agent(
        _PICK_LOCK_NAMESPACE, _DEPARTMENT, _CATEGORY, _EXCLUDED, type_=PG_UUID(as_uuid=True)
    )
)
# Someone could take the ticket, locked rows or not: `ticketflow_pick_agent`'s conditions.
_SOMEONE_FITS = select(
    exists().where(
        *_can_take(None, None),
        _users.c.department_id == _DEPARTMENT,
        or_(_CATEGORY.is_(None), _covers(_CATEGORY)),
        not_(_users.c.id == any_(_EXCLUDED)),
    )
)

# Least loaded; on equal load, round-robin: picked longest ago (never picked first); then id.
_NEXT_IN_LINE = (
    _users.c.current_load,
    _users.c.last_assigned_at.asc().nulls_first(),
    _users.c.id,
)


async def pick_agent(
    session: AsyncSession,
    department_id: UUID,
    category: str | None,
    *,
    exclude: AbstractSet[UUID] = frozenset(),
) -> UUID | None:
    """Choose the agent for a new ticket of `department_id` and `category`, or None if nobody fits.

    The pick counts at once: the agent's `current_load` goes up by one and their
    `last_assigned_at` is stamped in the same statement, so the next pick (even before this
    assignment reaches the read model) sees it. When the assignment lands, the read model's
    `recount_load` sets `current_load` to the exact count again; if it never lands, call
    `recount_load` for the agent to take the pick back.

    Picks in one department are serialized for the rest of the caller's transaction: commit
    promptly (before any call to Temporal). The statement after the lock reads a fresh
    snapshot under READ COMMITTED, so it orders agents by their true current loads.
    """
    # One server-side call (migration 0005): the lock is held for the update alone. Agents
    # whose row a read-model write holds this instant are passed over, never waited for while
    # the department's queue is held; if that leaves nobody but someone could take the
    # ticket, the caller tries again in a moment (after committing, which frees the queue).
    params = {"department_id": department_id, "category": category, "exclude": list(exclude)}
    agent_id: UUID | None = await session.scalar(_PICK, params)
    if agent_id is None and await session.scalar(_SOMEONE_FITS, params):
        raise RoutingBusy(f"every agent who fits department {department_id} is being updated")
    return agent_id


class RoutingBusy(Exception):
    """Nobody could be picked this instant, though someone fits: try again shortly."""


async def available_agents(
    session: AsyncSession, *, department_id: UUID | None = None, category: str | None = None
) -> list[User]:
    """The agents `pick_agent` would choose from, in the order it would choose them."""
    statement = select(User).where(*_can_take(department_id, category)).order_by(*_NEXT_IN_LINE)
    return list(await session.scalars(statement))


async def set_max_load(session: AsyncSession, user_id: UUID, max_load: int) -> User | None:
    """Change a user's capacity (None if there is no such user); their current load stays."""
    statement = (
        update(User)
        .where(User.id == user_id, User.deleted_at.is_(None))
        .values(max_load=max_load)
        .returning(User)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def lock_users(session: AsyncSession, user_ids: Sequence[UUID]) -> dict[UUID, User]:
    """The live users among `user_ids`, locked for a change (in id order: no deadlocks)."""
    statement = (
        select(User)
        .where(User.id.in_(set(user_ids)), User.deleted_at.is_(None))
        .order_by(User.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return {user.id: user for user in await session.scalars(statement)}


async def open_ticket_counts(
    session: AsyncSession, user_id: UUID
) -> list[tuple[TicketStatus, Priority, int]]:
    """How many unresolved tickets are assigned to the user, by status and priority."""
    statement = (
        select(Ticket.status, Ticket.priority, func.count())
        .where(
            Ticket.assignee_id == user_id,
            Ticket.status.not_in(_DONE),
            Ticket.deleted_at.is_(None),
        )
        .group_by(Ticket.status, Ticket.priority)
    )
    rows = await session.execute(statement)
    return [(status, priority, count) for status, priority, count in rows]
