"""Fixed-window attempt counters in PostgreSQL, one row per key, for every API process.

One statement counts an attempt: it starts a new window when the last one has ended, and
answers the count so far and when the window ends. Rows of windows long over are swept now
and then by the same callers, so the table holds about one row per recently active key.
A count may weigh more than one (the kilobytes of an upload), and be given back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, Interval, bindparam, case, delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import RateLimitCounter, table_of

_counters = table_of(RateLimitCounter)
_amount = bindparam("amount", type_=Integer())

_new = insert(_counters).values(
    key=bindparam("key"),
    window_ends=func.now() + bindparam("period", type_=Interval()),
    hits=_amount,
)
_over = _counters.c.window_ends <= func.now()
_HIT = _new.on_conflict_do_update(
    index_elements=[_counters.c.key],
    set_={
        "hits": case((_over, _new.excluded.hits), else_=_counters.c.hits + _new.excluded.hits),
        "window_ends": case((_over, _new.excluded.window_ends), else_=_counters.c.window_ends),
    },
).returning(_counters.c.hits, _counters.c.window_ends)
# Only within the window that counted it: a window that has ended starts from nothing anyway.
_GIVE_BACK = (
    update(_counters)
    .where(_counters.c.key == bindparam("counter"), _counters.c.window_ends > func.now())
    .values(hits=func.greatest(_counters.c.hits - _amount, 0))
)


async def hit(
    session: AsyncSession, key: str, period: timedelta, amount: int = 1
) -> tuple[int, datetime]:
    """Count an attempt weighing `amount` under `key`: the count in its current window, and
    when that window ends."""
    params = {"key": key, "period": period, "amount": amount}
    hits, window_ends = (await session.execute(_HIT, params)).one()
    return hits, window_ends


async def give_back(session: AsyncSession, key: str, amount: int) -> None:
    """Take `amount` off `key`'s count in its current window (an attempt that did not
    happen after all)."""
    await session.execute(_GIVE_BACK, {"counter": key, "amount": amount})


async def sweep(session: AsyncSession, older_than: timedelta) -> None:
    """Delete the counters whose window ended more than `older_than` ago."""
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_ends < func.now() - older_than)
    )
