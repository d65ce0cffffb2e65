"""Ticket lists, scopes, comments, breaches and Idempotency-Key claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import ClockState, Priority, Role
from domain.errors import InvalidInput
from domain.views import TicketView
from persistence.models import AuditLog, Ticket, TicketComment
from persistence.pagination import Page
from persistence.readmodel import apply_batch
from persistence.repositories import tickets
from persistence.repositories.tickets import (
    AllTickets,
    OwnTickets,
    TeamTickets,
    TicketFilters,
    scope_for,
)
from tests.persistence.factories import (
    T0,
    Desk,
    add_department,
    add_user,
    batch,
    breach_entry,
    comment,
    created_entry,
    running_sla,
)


async def open_tickets(session: AsyncSession, desk: Desk, n: int, **changes: object) -> list[int]:
    numbers = []
    for _ in range(n):
        view: TicketView = await desk.ticket(session, **changes)
        await apply_batch(session, batch(view))
        numbers.append(view.number)
    return numbers


async def every_page(session: AsyncSession, scope: tickets.Scope, limit: int) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    while True:
        page: Page[Ticket] = await tickets.list_tickets(session, scope, limit=limit, cursor=cursor)
        pages.append([t.number for t in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_keyset_pages_cover_every_ticket_once_newest_first(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    numbers = await open_tickets(db_session, desk, 7)

    pages = await every_page(db_session, OwnTickets(desk.requester.id), limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [n for page in pages for n in page] == sorted(numbers, reverse=True)


async def test_a_page_boundary_on_the_last_row_ends_the_list(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    await open_tickets(db_session, desk, 4)
    pages = await every_page(db_session, OwnTickets(desk.requester.id), limit=2)
    assert [len(page) for page in pages] == [2, 2]


async def test_a_forged_cursor_is_invalid_input(db_session: AsyncSession) -> None:
    with pytest.raises(InvalidInput):
        await tickets.list_tickets(db_session, AllTickets(), cursor="bm90LWEtY3Vyc29y")
    with pytest.raises(InvalidInput):
        await tickets.list_tickets(db_session, AllTickets(), cursor="!!!")


async def test_scopes_show_requesters_their_own_and_agents_their_team(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    elsewhere = await add_department(db_session)
    outsider = await add_user(db_session, Role.AGENT, elsewhere.id)
    mine = await open_tickets(db_session, desk, 2)
    assigned = await open_tickets(
        db_session, desk, 1, department_id=elsewhere.id, assignee_id=desk.agent.id
    )
    other_requester = Desk(desk.department, desk.manager, desk.agent, outsider)
    theirs = await open_tickets(db_session, other_requester, 1, department_id=elsewhere.id)

    async def numbers(scope: tickets.Scope) -> set[int]:
        page = await tickets.list_tickets(db_session, scope, limit=200)
        return {t.number for t in page.items}

    assert await numbers(OwnTickets(desk.requester.id)) == set(mine + assigned)
    team = scope_for(desk.agent.id, Role.AGENT, [desk.department.id])
    assert await numbers(team) == set(mine + assigned)
    assert await numbers(TeamTickets(outsider.id, frozenset({elsewhere.id}))) == set(
        assigned + theirs
    )
    assert set(mine + assigned + theirs) <= await numbers(scope_for(outsider.id, Role.ADMIN))


async def test_filters_narrow_the_list(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    p1 = await open_tickets(db_session, desk, 2, priority=Priority.P1)
    await open_tickets(db_session, desk, 1, priority=Priority.P3)
    filters = TicketFilters(priority=Priority.P1, requester_id=desk.requester.id)
    page = await tickets.list_tickets(db_session, AllTickets(), filters)
    assert sorted(t.number for t in page.items) == p1


async def test_a_ticket_is_found_by_uuid_or_number(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    await apply_batch(db_session, batch(view))
    by_number = await tickets.get_by_ref(db_session, str(view.number))
    by_id = await tickets.get_by_ref(db_session, str(view.id))
    assert by_number is not None
    assert by_id is not None
    assert by_number.id == by_id.id == view.id
    assert await tickets.get_by_ref(db_session, "not-a-ticket") is None


async def test_requesters_never_see_private_comments(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    public = comment(desk.agent.id, "We are on it")
    private = comment(desk.agent.id, "Third fire this week").model_copy(update={"private": True})
    await apply_batch(db_session, batch(view, comments=[public, private]))

    for_requester = await tickets.list_comments(db_session, view.id, include_private=False)
    for_agent = await tickets.list_comments(db_session, view.id, include_private=True)

    assert [c.body for c in for_requester.items] == ["We are on it"]
    assert {c.body for c in for_agent.items} == {"We are on it", "Third fire this week"}


async def test_comments_of_the_same_instant_read_in_the_order_they_were_written(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session)
    bodies = [f"reply {n}" for n in range(12)]  # all at T0, as replies taken in one task
    await apply_batch(
        db_session, batch(view, comments=[comment(desk.requester.id, b) for b in bodies[:8]])
    )
    await apply_batch(
        db_session, batch(view, comments=[comment(desk.agent.id, b) for b in bodies[8:]])
    )

    pages: list[str] = []
    cursor = None
    while True:
        page = await tickets.list_comments(
            db_session, view.id, include_private=True, limit=5, cursor=cursor
        )
        pages += [c.body for c in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert pages == bodies


async def test_breaches_list_breached_tickets_with_their_breach_events(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    deadline = T0 + timedelta(hours=1)
    breached = await desk.ticket(db_session, sla=running_sla(deadline, ClockState.BREACHED))
    fine = await desk.ticket(db_session)
    await apply_batch(db_session, batch(breached, history=[breach_entry(2, deadline)]))
    await apply_batch(db_session, batch(fine))

    page = await tickets.breaches(db_session, OwnTickets(desk.requester.id))

    assert [(b.ticket.id, [e.occurred_at for e in b.breaches]) for b in page.items] == [
        (breached.id, [deadline])
    ]


async def test_reserved_numbers_are_never_handed_out_twice(db_session: AsyncSession) -> None:
    numbers = [await tickets.reserve_number(db_session) for _ in range(3)]
    assert len(set(numbers)) == 3
    assert numbers == sorted(numbers)


async def test_racing_idempotency_claims_have_one_winner(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as setup:
        requester = await add_user(setup, Role.USER)
        first_number = await tickets.reserve_number(setup)
        second_number = await tickets.reserve_number(setup)

    async with session_factory() as first, session_factory() as second:
        won = await tickets.claim_idempotency_key(first, requester.id, "key-1", first_number)
        # The second claim must wait for the first transaction, not slip past it.
        racing = asyncio.create_task(
            tickets.claim_idempotency_key(second, requester.id, "key-1", second_number)
        )
        await asyncio.sleep(0.2)
        assert not racing.done()
        await first.commit()
        lost = await racing
        await second.commit()

    assert won == (first_number, True)
    assert lost == (first_number, False)
    async with session_factory() as db_session:
        assert (
            await tickets.ticket_number_for_key(db_session, requester.id, "key-1") == first_number
        )


async def test_a_rolled_back_claim_frees_the_key(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as setup:
        requester = await add_user(setup, Role.USER)

    async with session_factory() as first, session_factory() as second:
        await tickets.claim_idempotency_key(first, requester.id, "key-2", 101)
        racing = asyncio.create_task(
            tickets.claim_idempotency_key(second, requester.id, "key-2", 102)
        )
        await asyncio.sleep(0.1)
        await first.rollback()
        assert await racing == (102, True)
        await second.commit()


async def test_a_deleted_ticket_is_hidden_and_leaves_its_assignees_load(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session, assignee_id=desk.agent.id)
    await apply_batch(db_session, batch(view, history=[created_entry(None)]))
    await db_session.refresh(desk.agent)
    assert desk.agent.current_load == 1

    assert await tickets.soft_delete(db_session, view.id)
    assert await tickets.get_by_number(db_session, view.number) is None
    assert not await tickets.soft_delete(db_session, view.id)
    await db_session.refresh(desk.agent)
    assert desk.agent.current_load == 0


async def test_a_hard_deleted_ticket_takes_its_rows_along_and_leaves_an_audit_row(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    view = await desk.ticket(db_session, assignee_id=desk.agent.id)
    await apply_batch(
        db_session,
        batch(view, history=[created_entry(None)], comments=[comment(desk.requester.id)]),
    )
    await db_session.refresh(desk.agent)
    assert desk.agent.current_load == 1

    assert await tickets.delete_ticket(db_session, view.id, desk.manager.id, "deleted by boss")
    assert await tickets.get(db_session, view.id) is None
    left = await db_session.scalars(select(TicketComment).where(TicketComment.ticket_id == view.id))
    assert list(left) == []
    await db_session.refresh(desk.agent)
    assert desk.agent.current_load == 0
    audit = await db_session.scalar(
        select(AuditLog).where(AuditLog.entity_id == view.id, AuditLog.action == "DELETE")
    )
    assert audit is not None and audit.user_id == desk.manager.id
    assert audit.before is not None and audit.before["number"] == view.number
    assert not await tickets.delete_ticket(db_session, view.id, desk.manager.id, "again")


async def search_numbers(session: AsyncSession, scope: tickets.Scope, text: str) -> list[int]:
    page = await tickets.search(session, scope, text)
    return [hit.ticket.number for hit in page.items]


async def test_search_ranks_title_matches_first_within_the_callers_scope(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    word = f"zebra{uuid4().hex[:8]}"
    in_title = await desk.ticket(db_session, title=f"The {word} printer", description="Jammed")
    in_text = await desk.ticket(db_session, title="Printer jammed", description=f"A {word} ate it")
    other = await desk.ticket(db_session, title="Nothing to see", description="Quiet")
    for view in (in_title, in_text, other):
        await apply_batch(db_session, batch(view))
    stranger = await add_user(db_session, Role.USER)

    assert await search_numbers(db_session, AllTickets(), word) == [
        in_title.number,
        in_text.number,
    ]
    assert await search_numbers(db_session, OwnTickets(desk.requester.id), word) == [
        in_title.number,
        in_text.number,
    ]
    assert await search_numbers(db_session, OwnTickets(stranger.id), word) == []
    assert await search_numbers(db_session, AllTickets(), f"{word} -ate") == [in_title.number]


async def test_search_finds_public_comments_but_never_private_notes(
    db_session: AsyncSession,
) -> None:
    desk = await Desk.create(db_session)
    public, private = f"kiwi{uuid4().hex[:8]}", f"mango{uuid4().hex[:8]}"
    view = await desk.ticket(db_session)
    note = comment(desk.agent.id, f"internal {private}").model_copy(update={"private": True})
    await apply_batch(
        db_session, batch(view, comments=[comment(desk.agent.id, f"try {public}"), note])
    )
    assert await search_numbers(db_session, AllTickets(), public) == [view.number]
    assert await search_numbers(db_session, AllTickets(), private) == []


async def test_search_pages_cover_every_hit_once(db_session: AsyncSession) -> None:
    desk = await Desk.create(db_session)
    word = f"walrus{uuid4().hex[:8]}"
    for i in range(5):
        view = await desk.ticket(db_session, title=f"{word} " * (i + 1), description="x")
        await apply_batch(db_session, batch(view))
    seen: list[int] = []
    cursor = None
    while True:
        page = await tickets.search(db_session, AllTickets(), word, limit=2, cursor=cursor)
        seen += [hit.ticket.number for hit in page.items]
        ranks = [hit.rank for hit in page.items]
        assert ranks == sorted(ranks, reverse=True)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 5
    with pytest.raises(InvalidInput):
        await tickets.search(db_session, AllTickets(), word, cursor="bm90LWEtY3Vyc29y")
