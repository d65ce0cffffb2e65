"""Attempt counters shared by every API process: fixed windows in PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence import ratelimits
from persistence.models import RateLimitCounter

MINUTE = timedelta(minutes=1)


async def test_attempts_count_up_within_their_window(db_session: AsyncSession) -> None:
    key = uuid4().hex
    counts = [await ratelimits.hit(db_session, key, MINUTE) for _ in range(3)]

    assert [hits for hits, _ in counts] == [1, 2, 3]
    assert len({ends for _, ends in counts}) == 1  # one window, not one per attempt
    now = await db_session.scalar(select(func.now()))
    assert now is not None
    assert timedelta(seconds=59) < counts[0][1] - now <= MINUTE


async def test_a_window_over_starts_afresh(db_session: AsyncSession) -> None:
    key = uuid4().hex
    for _ in range(4):
        await ratelimits.hit(db_session, key, MINUTE)
    await _end_window(db_session, key, ago=timedelta(seconds=1))

    hits, ends = await ratelimits.hit(db_session, key, MINUTE)
    assert hits == 1
    assert ends > await db_session.scalar(select(func.now()))  # type: ignore[operator]


async def test_keys_count_apart(db_session: AsyncSession) -> None:
    one, other = uuid4().hex, uuid4().hex
    await ratelimits.hit(db_session, one, MINUTE)

    assert (await ratelimits.hit(db_session, other, MINUTE))[0] == 1


async def test_sweeping_removes_only_long_finished_windows(db_session: AsyncSession) -> None:
    old, recent, running = uuid4().hex, uuid4().hex, uuid4().hex
    for key in (old, recent, running):
        await ratelimits.hit(db_session, key, MINUTE)
    await _end_window(db_session, old, ago=timedelta(days=2))
    await _end_window(db_session, recent, ago=timedelta(hours=1))

    await ratelimits.sweep(db_session, timedelta(days=1))

    left = await db_session.scalars(
        select(RateLimitCounter.key).where(RateLimitCounter.key.in_([old, recent, running]))
    )
    assert set(left) == {recent, running}


async def _end_window(session: AsyncSession, key: str, *, ago: timedelta) -> None:
    await session.execute(
        update(RateLimitCounter)
        .where(RateLimitCounter.key == key)
        .values(window_ends=func.now() - ago)
    )


async def test_counts_may_weigh_more_than_one_and_be_given_back(
    db_session: AsyncSession,
) -> None:
    key = uuid4().hex
    assert (await ratelimits.hit(db_session, key, MINUTE, amount=600))[0] == 600
    assert (await ratelimits.hit(db_session, key, MINUTE, amount=500))[0] == 1100
    await ratelimits.give_back(db_session, key, 500)
    assert (await ratelimits.hit(db_session, key, MINUTE, amount=0))[0] == 600
    await ratelimits.give_back(db_session, key, 10_000)  # never below nothing
    assert (await ratelimits.hit(db_session, key, MINUTE))[0] == 1
    # A window that has ended is not given anything back: the next count starts afresh.
    await _end_window(db_session, key, ago=timedelta(seconds=1))
    await ratelimits.give_back(db_session, key, 1)
    assert (await ratelimits.hit(db_session, key, MINUTE, amount=7))[0] == 7
