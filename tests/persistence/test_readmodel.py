"""apply_batch: the idempotent, order-proof write of a ticket's read model."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from domain.enums import ClockState, Role, TicketStatus
from domain.messages import ReadModelBatch
from domain.ticket import HistoryEntry, Recipient, row_id
from domain.views import TicketView
from persistence.models import AuditLog, Notification, SlaHistory, Ticket, TicketComment, User
from persistence.readmodel import TicketGone, apply_batch
from persistence.repositories import tickets as tickets_repo
from tests.persistence.factories import (
    T0,
    Desk,
    add_user,
    assigned_entry,
    batch,
    breach_entry,
    comment,
    created_entry,
    next_version,
    notify,
    running_sla,
)


async def count(session: AsyncSession, column: InstrumentedAttribute[Any], ticket_id: UUID) -> int:
    return int(await session.scalar(select(func.count()).where(column == ticket_id)) or 0)


async def load_of(session: AsyncSession, user: User) -> int:
    load = await session.scalar(select(User.current_load).where(User.id == user.id))
    assert load is not None
    return load


async def test_same_batch_twice_writes_every_row_once(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    deadline = T0 + timedelta(hours=1)
    twice = batch(
        view,
        comments=[comment(desk.requester.id)],
        history=[created_entry(desk.requester.id), breach_entry(2, deadline)],
        notifications=[notify(f"{view.id}/created", Recipient(user_id=desk.agent.id))],
    )

    first = await apply_batch(db_session, twice)
    again = await apply_batch(db_session, twice)

    assert [n.user_id for n in first] == [desk.agent.id]
    assert again == []
    assert await count(db_session, TicketComment.ticket_id, view.id) == 1
    assert await count(db_session, SlaHistory.ticket_id, view.id) == 1
    assert await count(db_session, AuditLog.entity_id, view.id) == 1
    assert await count(db_session, Notification.ticket_id, view.id) == 1


async def test_history_becomes_sla_and_audit_rows(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session, assignee_id=desk.agent.id)
    deadline = T0 + timedelta(hours=1)
    entries = [
        created_entry(desk.requester.id),
        assigned_entry(2, None, desk.agent.id),
        breach_entry(3, deadline),
    ]
    await apply_batch(db_session, batch(view, history=entries))

    breach = await db_session.get_one(SlaHistory, row_id(view.id, "sla", 3))
    assert (breach.occurred_at, breach.state, breach.target_seconds) == (
        deadline,
        ClockState.BREACHED,
        3600,
    )
    assert breach.recorded_at > deadline  # wall time of the write, not ticket time
    created = await db_session.get_one(AuditLog, row_id(view.id, "audit", 1))
    assert (created.action, created.user_id, created.before) == ("CREATE", desk.requester.id, None)
    assigned = await db_session.get_one(AuditLog, row_id(view.id, "audit", 2))
    assert assigned.action == "UPDATE"
    assert assigned.before == {"assignee_id": None}
    assert assigned.after == {
        "assignee_id": str(desk.agent.id),
        "kind": "assigned",
        "summary": "Assigned",
    }


async def test_ticket_row_mirrors_the_view(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    target = T0 + timedelta(minutes=30)
    view = await desk.ticket(db_session, sla=running_sla(target, ClockState.AT_RISK))
    await apply_batch(db_session, batch(view).model_copy(update={"requester_role": Role.VIP_USER}))

    row = await db_session.get_one(Ticket, view.id)
    assert (row.number, row.status, row.metadata_) == (view.number, TicketStatus.NEW, {"floor": 3})
    assert (row.sla_state, row.sla_breach_at) == (ClockState.AT_RISK, target)
    assert row.sla["policy"] == "Default"
    assert row.sla["first_response"]["remaining"] == "PT1H"
    assert row.requester_role is Role.VIP_USER


async def test_an_older_version_never_overwrites_a_newer_one(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    v1 = await desk.ticket(db_session)
    v2 = next_version(v1, title="Printer extinguished", status=TicketStatus.IN_PROGRESS)

    await apply_batch(db_session, batch(v2))
    await apply_batch(db_session, batch(v1))  # late delivery of the first write

    row = await db_session.get_one(Ticket, v1.id, populate_existing=True)
    assert (row.version, row.title, row.status) == (2, "Printer extinguished", "in_progress")

    v3 = next_version(v2, status=TicketStatus.RESOLVED)
    await apply_batch(db_session, batch(v3))
    row = await db_session.get_one(Ticket, v1.id, populate_existing=True)
    assert (row.version, row.status) == (3, TicketStatus.RESOLVED)


async def test_manager_recipients_resolve_once_and_unknowns_are_skipped(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    intent = notify(
        f"{view.id}/breach",
        Recipient(department_manager_of=desk.department.id),
        Recipient(user_id=desk.manager.id),  # the same person, named directly
        Recipient(user_id=uuid4()),  # nobody
        Recipient(department_manager_of=uuid4()),  # no such department
        Recipient(user_id=desk.agent.id),
    )

    created = await apply_batch(db_session, batch(view, notifications=[intent]))

    assert [n.user_id for n in created] == [desk.manager.id, desk.agent.id]
    keys = await db_session.scalars(
        select(Notification.idempotency_key).where(Notification.ticket_id == view.id)
    )
    assert set(keys) == set(
        f"{view.id}/breach/{user}/in_app" for user in (desk.manager.id, desk.agent.id)
    )


async def test_current_load_counts_open_assigned_tickets(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    agent, other = desk.agent, desk.manager
    first = await desk.ticket(db_session, assignee_id=agent.id)
    second = await desk.ticket(db_session, assignee_id=agent.id)
    await apply_batch(db_session, batch(first, history=[assigned_entry(2, None, agent.id)]))
    await apply_batch(db_session, batch(second, history=[assigned_entry(2, None, agent.id)]))
    assert await load_of(db_session, agent) == 2

    moved = next_version(first, assignee_id=other.id)
    await apply_batch(db_session, batch(moved, history=[assigned_entry(3, agent.id, other.id)]))
    assert (await load_of(db_session, agent), await load_of(db_session, other)) == (1, 1)

    resolved = next_version(second, status=TicketStatus.RESOLVED)
    resolution = HistoryEntry(
        seq=3, at=T0, kind="resolved", summary="Resolved", changes={"status": ["new", "resolved"]}
    )
    await apply_batch(db_session, batch(resolved, history=[resolution]))
    assert await load_of(db_session, agent) == 0

    await apply_batch(db_session, batch(resolved, history=[resolution]))  # a repeat: no change
    assert await load_of(db_session, agent) == 0


async def test_changes_that_cannot_move_a_load_leave_it_alone(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    first = await desk.ticket(db_session, assignee_id=desk.agent.id)
    await apply_batch(db_session, batch(first, history=[assigned_entry(2, None, desk.agent.id)]))
    desk.agent.current_load = 7  # a stale count only a reassignment or status move corrects
    await db_session.flush()
    reprioritised = next_version(first)
    change = HistoryEntry(
        seq=3, at=T0, kind="priority_changed", summary="P2 → P1", changes={"priority": ["P2", "P1"]}
    )
    await apply_batch(db_session, batch(reprioritised, history=[change]))
    assert await load_of(db_session, desk.agent) == 7


async def test_current_load_is_exact_under_concurrent_batches(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as setup:
        desk = await Desk.create(setup)
        views = [await desk.ticket(setup, assignee_id=desk.agent.id) for _ in range(8)]

    async def write(view_index: int) -> None:
        view = views[view_index]
        async with session_factory.begin() as db_session:
            await apply_batch(
                db_session, batch(view, history=[assigned_entry(2, None, desk.agent.id)])
            )
            await asyncio.sleep(0.01)  # hold the transaction open so the writers overlap

    await asyncio.gather(*(write(i) for i in range(len(views))))

    async with session_factory() as db_session:
        assert await load_of(db_session, desk.agent) == len(views)


async def test_a_comment_is_written_once_even_in_a_later_batch(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    v1 = await desk.ticket(db_session)
    reply = comment(desk.agent.id)
    await apply_batch(db_session, batch(v1, comments=[reply]))
    await apply_batch(db_session, batch(next_version(v1), comments=[reply]))

    bodies = await db_session.scalars(
        select(TicketComment.body).where(TicketComment.ticket_id == v1.id)
    )
    assert list(bodies) == [reply.body]


async def test_an_added_user_is_not_a_recipient_when_deleted(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    gone = await add_user(db_session)
    gone.deleted_at = T0
    await db_session.flush()
    view = await desk.ticket(db_session)
    intent = notify(f"{view.id}/x", Recipient(user_id=gone.id))
    assert await apply_batch(db_session, batch(view, notifications=[intent])) == []


async def test_a_later_write_updates_and_keeps_its_version_order(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    v1 = await desk.ticket(db_session)
    v2 = next_version(v1, title="Printer extinguished")
    v3 = next_version(v2, status=TicketStatus.RESOLVED)
    await apply_batch(db_session, batch(v1))

    await apply_batch(db_session, later(v3, comments=[comment(desk.agent.id)]))
    await apply_batch(db_session, later(v2))  # late, and older: the row keeps v3

    row = await db_session.get_one(Ticket, v1.id, populate_existing=True)
    assert (row.version, row.title, row.status) == (3, "Printer extinguished", "resolved")
    assert await count(db_session, TicketComment.ticket_id, v1.id) == 1


async def test_a_write_after_the_ticket_was_deleted_brings_nothing_back(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    v1 = await desk.ticket(db_session)
    await apply_batch(db_session, batch(v1))
    await tickets_repo.delete_ticket(db_session, v1.id, desk.manager.id, "deleted by a test")
    audit_rows = await count(db_session, AuditLog.entity_id, v1.id)

    late = later(
        next_version(v1, status=TicketStatus.IN_PROGRESS),
        comments=[comment(desk.agent.id)],
        history=[assigned_entry(2, None, desk.agent.id)],
    )
    with pytest.raises(TicketGone):
        await apply_batch(db_session, late)

    assert await db_session.get(Ticket, v1.id, populate_existing=True) is None
    assert await count(db_session, TicketComment.ticket_id, v1.id) == 0
    assert await count(db_session, AuditLog.entity_id, v1.id) == audit_rows


def later(view: TicketView, **parts: Any) -> ReadModelBatch:
    """A batch the workflow sends after the ticket's first write."""
    return batch(view, **parts).model_copy(update={"first_write": False})
