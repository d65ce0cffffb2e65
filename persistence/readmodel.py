"""The one write of a ticket's read model: its latest snapshot plus the rows its history made.

Every row is keyed by something the workflow decided (the ticket's version, ids derived from
history sequence numbers, notification idempotency keys), so a retried, replayed or late
batch can only skip rows, never duplicate them or roll a ticket back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python
from sqlalchemy import Table, and_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Role, TicketStatus
from domain.messages import ReadModelBatch
from domain.ticket import CommentRecord, HistoryEntry, NotificationIntent, SlaEventData, row_id
from persistence.models import (
    AuditAction,
    AuditLog,
    Department,
    Notification,
    NotificationChannel,
    NotificationStatus,
    SlaHistory,
    Ticket,
    TicketComment,
    User,
    table_of,
)

_tickets = table_of(Ticket)
_comments = table_of(TicketComment)
_sla_history = table_of(SlaHistory)
_audit_logs = table_of(AuditLog)
_notifications = table_of(Notification)
_users = table_of(User)

_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


Recipients = list[list[UUID]]  # per notification intent, the users it reaches
# The subject and body one user reads for one intent (None: the intent's own words).
Wording = Callable[[NotificationIntent, UUID], tuple[str, str] | None]


class NewNotification(BaseModel):
    """An in-app notification this write created, to push live once committed."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    user_id: UUID
    ticket_id: UUID | None
    event: str
    subject: str
    body: str
    urgent: bool
    created_at: datetime


_INSERT_IN_APP = (
    insert(_notifications)
    .values(sent_at=func.now())
    .on_conflict_do_nothing(index_elements=[_notifications.c.idempotency_key])
    .returning(*(_notifications.c[name] for name in NewNotification.model_fields))
)


async def apply_batch(
    session: AsyncSession,
    batch: ReadModelBatch,
    recipients: Recipients | None = None,
    wording: Wording | None = None,
) -> list[NewNotification]:
    """Write `batch` in the session's transaction; the caller commits.

    Safe to repeat (nothing is duplicated) and to reorder (an older ticket version never
    overwrites a newer one). Raises `TicketGone`, having written nothing, when a write after
    the first finds the ticket deleted. Returns only the notifications this call inserted.
    `recipients` are the intents' users if the caller has resolved them already; `wording`
    puts each in-app notification in its reader's words.
    """
    ticket_id = batch.ticket.id
    await _write_ticket(session, batch)
    await _insert_comments(session, ticket_id, batch.comments)
    await _insert_history(session, ticket_id, batch.history)
    if recipients is None:
        recipients = await resolve_recipients(session, batch.notifications)
    created = await _insert_notifications(
        session, ticket_id, batch.notifications, recipients, wording
    )
    await recount_load(session, _assignees(batch))
    await announce(session, created)
    return created


LIVE_CHANNEL = "ticketflow_notifications"


async def announce(session: AsyncSession, notifications: Sequence[NewNotification]) -> None:
    """Tell listening API processes about new in-app rows; PostgreSQL delivers it on commit.

    The payload is `<user_id>:<notification_id>` (NOTIFY payloads are small); a listener
    reads the row itself, so a rolled-back write announces nothing.
    """
    if not notifications:
        return
    payloads = [f"{n.user_id}:{n.id}" for n in notifications]
    await session.execute(
        text(
            "SELECT pg_notify(:channel, payload) FROM unnest(CAST(:payloads AS text[])) AS payload"
        ),
        {"channel": LIVE_CHANNEL, "payloads": payloads},
    )


_TICKET_COLUMNS = [c.name for c in _tickets.columns if c.name not in ("id", "deleted_at")]


class TicketGone(Exception):
    """The ticket's row is gone (an admin deleted it): a late write must not bring it back."""


def _ticket_upsert() -> Any:
    """`INSERT … ON CONFLICT (id) DO UPDATE … WHERE newer`, built once: a first write."""
    statement = insert(_tickets)
    return statement.on_conflict_do_update(
        index_elements=[_tickets.c.id],
        set_={name: statement.excluded[name] for name in _TICKET_COLUMNS},
        where=_tickets.c.version < statement.excluded.version,
    )


def _ticket_update() -> Any:
    """`UPDATE … WHERE id AND newer`, built once: every later write, which never inserts."""
    # Parameters are prefixed: SQLAlchemy keeps a column's own name for its SET value.
    return (
        update(_tickets)
        .where(_tickets.c.id == bindparam("p_id"), _tickets.c.version < bindparam("p_version"))
        .values({name: bindparam(f"p_{name}") for name in _TICKET_COLUMNS})
        .returning(_tickets.c.id)
    )


_UPSERT_TICKET = _ticket_upsert()
_UPDATE_TICKET = _ticket_update()
_TICKET_EXISTS = select(_tickets.c.id).where(_tickets.c.id == bindparam("p_id"))


async def _write_ticket(session: AsyncSession, batch: ReadModelBatch) -> None:
    view = batch.ticket
    row: dict[str, Any] = view.model_dump(exclude={"sla", "metadata"})
    row.update(
        metadata=to_jsonable_python(view.metadata),
        sla=view.sla.model_dump(mode="json"),
        sla_state=view.sla.overall(),
        sla_breach_at=view.sla.next_breach_at(),
        requester_role=batch.requester_role,
    )
    if batch.first_write:
        await session.execute(_UPSERT_TICKET, {**row, "deleted_at": None})
        return
    # An UPDATE waits for a DELETE holding the row and then matches nothing, so a ticket
    # deleted while this write was on its way stays deleted.
    params = {f"p_{name}": value for name, value in row.items()}
    updated = await session.scalar(_UPDATE_TICKET, params)
    if updated is None and await session.scalar(_TICKET_EXISTS, params) is None:
        raise TicketGone(f"ticket {view.id} was deleted")


async def _insert_comments(
    session: AsyncSession, ticket_id: UUID, comments: Sequence[CommentRecord]
) -> None:
    rows = [
        {
            "id": comment.id,
            "ticket_id": ticket_id,
            "author_id": comment.author_id,
            "body": comment.body,
            "private": comment.private,
            "mentions": comment.mentions,
            "attachments": comment.attachments,
            "created_at": comment.created_at,
            "updated_at": comment.created_at,
        }
        for comment in comments
    ]
    await _insert_new(session, _comments, rows)


async def _insert_history(
    session: AsyncSession, ticket_id: UUID, history: Sequence[HistoryEntry]
) -> None:
    sla_rows = [_sla_row(ticket_id, entry, entry.sla) for entry in history if entry.sla]
    audit_rows = [_audit_row(ticket_id, entry) for entry in history if not entry.sla]
    await _insert_new(session, _sla_history, sla_rows)
    await _insert_new(session, _audit_logs, audit_rows)


@functools.cache
def _insert_new_statement(table: Table) -> Any:
    # Built once per table: a statement built per write has its cache key worked out anew
    # on every execution, a visible share of a busy worker's time.
    return insert(table).on_conflict_do_nothing(index_elements=[table.c.id])


async def _insert_new(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose id is not there yet, in one executemany round trip."""
    if rows:
        await session.execute(_insert_new_statement(table), rows)


def _sla_row(ticket_id: UUID, entry: HistoryEntry, sla: SlaEventData) -> dict[str, Any]:
    return {
        "id": row_id(ticket_id, "sla", entry.seq),
        "ticket_id": ticket_id,
        "metric": sla.metric,
        "cycle": sla.cycle,
        "event": sla.kind,
        "target_seconds": round(sla.target.total_seconds()),
        "elapsed_seconds": round(sla.elapsed.total_seconds()),
        "state": sla.state,
        "due_at": sla.due_at,
        "fraction": sla.fraction,
        "occurred_at": entry.at,
    }


def _audit_row(ticket_id: UUID, entry: HistoryEntry) -> dict[str, Any]:
    before = {field: values[0] if values else None for field, values in entry.changes.items()}
    after = {field: values[-1] if values else None for field, values in entry.changes.items()}
    after.update(kind=entry.kind, summary=entry.summary)
    return {
        "id": row_id(ticket_id, "audit", entry.seq),
        "user_id": entry.actor_id,
        "action": AuditAction.CREATE if entry.kind == "created" else AuditAction.UPDATE,
        "entity": "tickets",
        "entity_id": ticket_id,
        "before": to_jsonable_python(before) if before else None,
        "after": to_jsonable_python(after),
        "occurred_at": entry.at,
    }


async def _insert_notifications(
    session: AsyncSession,
    ticket_id: UUID,
    intents: Sequence[NotificationIntent],
    recipients: Recipients,
    wording: Wording | None,
) -> list[NewNotification]:
    if not intents:
        return []

    def words(intent: NotificationIntent, user_id: UUID) -> tuple[str, str]:
        chosen = wording(intent, user_id) if wording else None
        return chosen or (intent.subject, intent.body)

    rows = [
        {
            "user_id": user_id,
            "ticket_id": ticket_id,
            "channel": NotificationChannel.IN_APP,
            "event": intent.event,
            "subject": subject,
            "body": body,
            "urgent": intent.urgent,
            "idempotency_key": f"{intent.key}/{user_id}/in_app",
            "status": NotificationStatus.SENT,
            "attempts": 1,
        }
        for intent, user_ids in zip(intents, recipients, strict=True)
        for user_id in user_ids
        for subject, body in [words(intent, user_id)]
    ]
    if not rows:
        return []
    result = await session.execute(_INSERT_IN_APP, rows)
    return [NewNotification.model_validate(row, from_attributes=True) for row in result]


async def resolve_recipients(
    session: AsyncSession, intents: Sequence[NotificationIntent]
) -> Recipients:
    """Each intent's users, in order and without repeats; unknown or deleted users are skipped."""
    wanted = await wanted_users(session, intents)
    every_user = {user_id for users in wanted for user_id in users}
    known = set()
    if every_user:
        known = set(
            await session.scalars(
                select(User.id).where(User.id.in_(every_user), User.deleted_at.is_(None))
            )
        )
    return [[user_id for user_id in users if user_id in known] for users in wanted]


async def wanted_users(session: AsyncSession, intents: Sequence[NotificationIntent]) -> Recipients:
    """Each intent's users as it names them (roles resolved, a staff-only user left out unless
    staff), in order, without repeats; not yet checked to exist."""
    if not intents:
        return []
    department_ids = {
        r.department_manager_of for i in intents for r in i.recipients if r.department_manager_of
    }
    managers: dict[UUID, UUID | None] = {}
    if department_ids:
        found = await session.execute(
            select(Department.id, Department.manager_id).where(Department.id.in_(department_ids))
        )
        managers = {department_id: manager_id for department_id, manager_id in found}

    admins: list[UUID] = []
    if any(r.admins for i in intents for r in i.recipients):
        admins = list(
            await session.scalars(
                select(User.id)
                .where(User.role == Role.ADMIN, User.deleted_at.is_(None))
                .order_by(User.created_at)
            )
        )

    staff = await _staff_among(
        session, {r.user_id for i in intents for r in i.recipients if r.staff_only and r.user_id}
    )

    def candidates(intent: NotificationIntent) -> Iterable[UUID | None]:
        for recipient in intent.recipients:
            if recipient.user_id:
                if not recipient.staff_only or recipient.user_id in staff:
                    yield recipient.user_id
            elif recipient.department_manager_of:
                yield managers.get(recipient.department_manager_of)
            elif recipient.admins:
                yield from admins

    return [list(dict.fromkeys(u for u in candidates(i) if u)) for i in intents]


_STAFF_ROLES = [role for role in Role if role.is_staff]


async def _staff_among(session: AsyncSession, user_ids: set[UUID]) -> set[UUID]:
    """Those of `user_ids` who are staff now: only they may hear of a private note."""
    if not user_ids:
        return set()
    found = await session.scalars(
        select(User.id).where(User.id.in_(user_ids), User.role.in_(_STAFF_ROLES))
    )
    return set(found)


_LOAD_FIELDS = ("assignee_id", "status")


def _assignees(batch: ReadModelBatch) -> set[UUID]:
    """Users whose open-ticket count this batch may have changed.

    Only a new ticket, a reassignment or a status change can move a count; any other change
    (an SLA event, a priority) leaves it alone and takes no lock on the agent's row.
    """
    touching = [
        entry
        for entry in batch.history
        if entry.kind == "created" or any(name in entry.changes for name in _LOAD_FIELDS)
    ]
    if not touching:
        return set()
    users = {batch.ticket.assignee_id} if batch.ticket.assignee_id else set()
    for entry in touching:
        for value in entry.changes.get("assignee_id", ()):
            if value:
                users.add(value if isinstance(value, UUID) else UUID(str(value)))
    return users


async def recount_load(session: AsyncSession, user_ids: Iterable[UUID]) -> None:
    """Set `current_load` to each user's number of assigned, unresolved tickets."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    # Lock the users first, then count in a later statement: under READ COMMITTED that
    # statement sees every batch committed before the lock was granted, so the last writer
    # always counts everything. NO KEY UPDATE, not UPDATE: it must not wait on the KEY SHARE
    # locks that concurrent ticket upserts take on their assignee (that would deadlock).
    await session.execute(
        select(_users.c.id)
        .where(_users.c.id.in_(ids))
        .order_by(_users.c.id)
        .with_for_update(key_share=True)
    )
    open_tickets = and_(
        _tickets.c.assignee_id == _users.c.id,
        _tickets.c.status.not_in(_DONE),
        _tickets.c.deleted_at.is_(None),
    )
    counts = (
        select(_users.c.id.label("user_id"), func.count(_tickets.c.id).label("load"))
        .select_from(_users.outerjoin(_tickets, open_tickets))
        .where(_users.c.id.in_(ids))
        .group_by(_users.c.id)
        .subquery()
    )
    await session.execute(
        update(_users)
        .where(_users.c.id == counts.c.user_id, _users.c.current_load != counts.c.load)
        .values(current_load=counts.c.load)
    )
