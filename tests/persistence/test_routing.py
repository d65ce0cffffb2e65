"""pick_agent: the least-loaded online agent who covers the category, fair under concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.enums import Availability, Role, UserStatus
from persistence.models import User
from persistence.readmodel import recount_load
from persistence.routing import RoutingBusy, available_agents, pick_agent
from tests.persistence.factories import T0, add_department, add_user


async def agent(session: AsyncSession, department_id: UUID, **fields: Any) -> UUID:
    """An online agent of the department (with no skills: a generalist), then `fields`."""
    user = await add_user(session, Role.AGENT, department_id)
    values = {"availability": Availability.ONLINE, **fields}
    await session.execute(update(User).where(User.id == user.id).values(**values))
    return user.id


async def loads(session: AsyncSession, *user_ids: UUID) -> list[int]:
    rows = await session.execute(select(User.id, User.current_load).where(User.id.in_(user_ids)))
    by_id = {user_id: load for user_id, load in rows}
    return [by_id[user_id] for user_id in user_ids]


async def test_only_online_active_agents_of_the_department_are_picked(
    db_session: AsyncSession,
) -> None:
    department = (await add_department(db_session)).id
    elsewhere = (await add_department(db_session)).id
    await agent(db_session, department, availability=Availability.OFFLINE)
    await agent(db_session, department, availability=Availability.AWAY)
    await agent(db_session, department, status=UserStatus.ON_LEAVE)
    await agent(db_session, department, deleted_at=T0)
    await agent(db_session, department, role=Role.ADMIN)
    await agent(db_session, elsewhere)
    assert await pick_agent(db_session, department, "network") is None

    ready = await agent(db_session, department, current_load=7)
    assert await pick_agent(db_session, department, "network") == ready
    assert [u.id for u in await available_agents(db_session, department_id=department)] == [ready]


async def test_skills_must_cover_the_category_ignoring_case(db_session: AsyncSession) -> None:
    department = (await add_department(db_session)).id
    printers = await agent(db_session, department, skills=["Printers", "Hardware"])
    await agent(db_session, department, skills=["billing"])

    assert await pick_agent(db_session, department, "PRINTERS") == printers
    assert await pick_agent(db_session, department, "network") is None
    generalist = await agent(db_session, department, current_load=5)
    assert await pick_agent(db_session, department, "network") == generalist
    # No category: skills do not matter, load does (the printer agent has 1, billing 0).
    billing = await pick_agent(db_session, department, None)
    assert billing not in (printers, generalist, None)


async def test_an_agent_at_capacity_gets_nothing_more(db_session: AsyncSession) -> None:
    department = (await add_department(db_session)).id
    full = await agent(db_session, department, max_load=2, current_load=1)

    assert await pick_agent(db_session, department, None) == full
    assert await pick_agent(db_session, department, None) is None
    assert await loads(db_session, full) == [2]


async def test_the_least_loaded_agent_wins(db_session: AsyncSession) -> None:
    department = (await add_department(db_session)).id
    busy = await agent(db_session, department, current_load=4)
    idle = await agent(db_session, department, current_load=1)

    picks = [await pick_agent(db_session, department, None) for _ in range(4)]

    # At 4 each, the one never picked before goes first.
    assert picks == [idle, idle, idle, busy]
    assert await loads(db_session, busy, idle) == [5, 4]


async def test_equal_loads_take_turns_longest_waiting_first(db_session: AsyncSession) -> None:
    department = (await add_department(db_session)).id
    recent = await agent(db_session, department, current_load=2, last_assigned_at=T0)
    earlier = await agent(
        db_session, department, current_load=2, last_assigned_at=T0 - timedelta(hours=1)
    )
    never = await agent(db_session, department, current_load=2)

    picks = [await pick_agent(db_session, department, None) for _ in range(6)]

    assert picks == [never, earlier, recent, never, earlier, recent]


async def test_excluded_agents_are_passed_over(db_session: AsyncSession) -> None:
    department = (await add_department(db_session)).id
    first = await agent(db_session, department)
    second = await agent(db_session, department, current_load=3)

    assert await pick_agent(db_session, department, None, exclude={first}) == second
    assert await pick_agent(db_session, department, None, exclude={first, second}) is None


async def test_a_pick_counts_until_the_read_model_recounts(db_session: AsyncSession) -> None:
    department = (await add_department(db_session)).id
    chosen = await agent(db_session, department)

    assert await pick_agent(db_session, department, None) == chosen
    row = await db_session.scalar(select(User).where(User.id == chosen))
    assert row is not None
    await db_session.refresh(row)
    assert row.current_load == 1
    assert row.last_assigned_at is not None

    # The assignment never landed: a recount takes the pick back.
    await recount_load(db_session, [chosen])
    assert await loads(db_session, chosen) == [0]


async def test_200_concurrent_picks_spread_evenly_within_capacity(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as session:
        department = (await add_department(session)).id
        agents = [
            await agent(session, department, max_load=50, skills=["network"]) for _ in range(5)
        ]

    async def pick() -> UUID | None:
        async with session_factory.begin() as session:
            return await pick_agent(session, department, "Network")

    first = Counter(await asyncio.gather(*(pick() for _ in range(200))))
    assert first == dict.fromkeys(agents, 40)

    more = Counter(await asyncio.gather(*(pick() for _ in range(60))))
    assert more == {**dict.fromkeys(agents, 10), None: 10}
    async with session_factory() as session:
        assert await loads(session, *agents) == [50] * 5


async def test_the_pick_and_the_available_list_agree_on_who_may_take_a_ticket(
    db_session: AsyncSession,
) -> None:
    """`pick_agent` runs in the database (migration 0005) and `available_agents` in SQLAlchemy:
    for every kind of agent, the first one listed is the one picked, and nobody listed means
    nobody picked."""
    department = (await add_department(db_session)).id
    variants: list[dict[str, Any]] = [
        {"availability": Availability.AWAY},
        {"status": UserStatus.INACTIVE},
        {"deleted_at": T0},
        {"role": Role.USER},
        {"current_load": 10, "max_load": 10},
        {"skills": ["billing"]},
        {"skills": ["VPN", "network"], "current_load": 3},
        {"current_load": 4},
        {"skills": ["Network"], "current_load": 2, "last_assigned_at": T0},
    ]
    for fields in variants:
        await agent(db_session, department, **fields)
    for category in ("network", "billing", "printers"):
        listed = [
            u.id
            for u in await available_agents(db_session, department_id=department, category=category)
        ]
        picked = await pick_agent(db_session, department, category)
        assert picked == (listed[0] if listed else None), category


async def test_a_fitting_agent_whose_row_is_being_written_makes_the_pick_busy(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as session:
        department = (await add_department(session)).id
        only = await agent(session, department, skills=["network"])

    async with session_factory.begin() as writer:
        # A read-model write holds the agent's row, as `lock_users` does.
        await writer.execute(select(User).where(User.id == only).with_for_update(key_share=True))
        async with session_factory.begin() as session:
            with pytest.raises(RoutingBusy):
                await pick_agent(session, department, "NETWORK")
            # Nobody covers this category, locked or not: no one to wait for.
            assert await pick_agent(session, department, "printers") is None

    async with session_factory.begin() as session:
        assert await pick_agent(session, department, "network") == only
