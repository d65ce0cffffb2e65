"""Fixed-window attempt counters in PostgreSQL, one row per key, for every API process.

One statement counts an attempt: it starts a new window when the last one has ended, and
answers the count so far and when the window ends. Rows of windows long over are swept now
and then by the same callers, so the table holds about one row per recently active key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Interval, bindparam, case, delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import RateLimitCounter, table_of

_counters = table_of(RateLimitCounter)

_new = insert(_counters).values(
    key=bindparam("key"), window_ends=func.now() + bindparam("period", type_=Interval()), hits=1
)
_over = _counters.c.window_ends <= func.now()
_HIT = _new.on_conflict_do_update(
    index_elements=[_counters.c.key],
    set_={
        "hits": case((_over, 1), else_=_counters.c.hits + 1),
        "window_ends": case((_over, _new.excluded.window_ends), else_=_counters.c.window_ends),
    },
).returning(_counters.c.hits, _counters.c.window_ends)


async def hit(session: AsyncSession, key: str, period: timedelta) -> tuple[int, datetime]:
    """Count one attempt under `key`: the attempts in its current window, and its end."""
    hits, window_ends = (await session.execute(_HIT, {"key": key, "period": period})).one()
    return hits, window_ends


async def sweep(session: AsyncSession, older_than: timedelta) -> None:
    """Delete the counters whose window ended more than `older_than` ago."""
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_ends < func.now() - older_than)
    )
