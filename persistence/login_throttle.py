"""Failed sign-ins per key, in PostgreSQL, for every API process (`login_throttles`).

A key counts failures in a fixed window that starts with its first failure; a key may also
be told to wait (`retry_at`). Rows of windows long over are swept by the same callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Interval, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import LoginThrottle, table_of

_throttles = table_of(LoginThrottle)

_new = insert(_throttles).values(
    key=bindparam("key"),
    failures=1,
    window_ends=func.now() + bindparam("window", type_=Interval()),
    retry_at=None,
)
_over = _throttles.c.window_ends <= func.now()
_FAIL = _new.on_conflict_do_update(
    index_elements=[_throttles.c.key],
    set_={
        "failures": case((_over, 1), else_=_throttles.c.failures + 1),
        "window_ends": case((_over, _new.excluded.window_ends), else_=_throttles.c.window_ends),
        "retry_at": case((_over, None), else_=_throttles.c.retry_at),
    },
).returning(_throttles.c.failures, _throttles.c.window_ends)


async def current(session: AsyncSession, keys: Sequence[str]) -> dict[str, tuple[int, float]]:
    """Each key's failures in its current window, and how many seconds it must still wait
    (0 if it need not); keys without a live window are left out."""
    left = func.extract("epoch", func.coalesce(LoginThrottle.retry_at, func.now()) - func.now())
    rows = await session.execute(
        select(LoginThrottle.key, LoginThrottle.failures, func.greatest(left, 0)).where(
            LoginThrottle.key.in_(keys), LoginThrottle.window_ends > func.now()
        )
    )
    return {key: (failures, float(wait)) for key, failures, wait in rows}


async def fail(session: AsyncSession, key: str, window: timedelta) -> tuple[int, datetime]:
    """Count one failure under `key`: the failures in its window so far, and its end."""
    failures, window_ends = (await session.execute(_FAIL, {"key": key, "window": window})).one()
    return failures, window_ends


async def wait(session: AsyncSession, key: str, delay: timedelta) -> None:
    """Make `key` wait `delay` from now, never past the end of its window."""
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(
            retry_at=func.least(
                func.now() + bindparam("delay", delay, type_=Interval()),
                LoginThrottle.window_ends,
            )
        )
    )


async def forget(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


async def sweep(session: AsyncSession, older_than: timedelta) -> None:
    """Delete the keys whose window ended more than `older_than` ago."""
    await session.execute(
        delete(LoginThrottle).where(LoginThrottle.window_ends < func.now() - older_than)
    )
