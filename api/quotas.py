"""Quotas per requester: tickets opened and upload volume per hour.

Anyone can register and open tickets; each ticket is a durable workflow and each upload is
kept for good, so one account could otherwise cost the desk without end. Requesters (`user`,
`vip_user`) are held to `TICKETFLOW_QUOTA_TICKETS_PER_HOUR` tickets and
`TICKETFLOW_QUOTA_UPLOAD_MB_PER_HOUR` megabytes (MiB) of uploads an hour; staff are exempt.
The counts are fixed windows in PostgreSQL (`persistence.ratelimits`, the table the login
limits use), so every API process counts the same ones. Past a quota the answer is a 429
problem with `Retry-After`: the seconds until the window ends.

What is refused is not counted: an upload over the quota, or one that fails afterwards (the
ticket closed meanwhile), is given back, so the rest of the quota stays usable.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.errors import ApiError
from persistence import ratelimits
from persistence.models import User
from ticketflow.settings import Settings

WINDOW = timedelta(hours=1)
KIB = 1024
# Every so many counts the counters of windows over for a day are swept (as the login
# limits do; either sweep clears both).
SWEEP_EVERY = 500
SWEEP_AFTER = timedelta(days=1)


class QuotaExceededError(ApiError):
    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(
            429,
            f"{what}; retry in {retry_after} s",
            code="quota_exceeded",
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class Quota:
    """`limit` units an hour of one kind (`name`); 0 is no limit."""

    name: str
    limit: int
    refusal: str


class RequesterQuotas:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._counted = 0
        self.tickets = Quota(
            "tickets",
            settings.quota_tickets_per_hour,
            f"at most {settings.quota_tickets_per_hour} tickets an hour may be opened",
        )
        # Counted in KiB, which a 32-bit counter holds for any quota the setting allows.
        self.upload_kib = Quota(
            "upload_kib",
            settings.quota_upload_mb_per_hour * KIB,
            f"at most {settings.quota_upload_mb_per_hour} MB an hour may be uploaded",
        )

    async def open_ticket(self, caller: User, session: AsyncSession) -> None:
        """Count one ticket `caller` opens in `session`'s transaction, the one that opens the
        ticket: the count is committed with it, and undone with it; 429 past the quota.

        Counting there rather than on a connection of its own keeps the request to the one
        pooled connection it already holds (many requests each waiting for a second one
        could empty the pool)."""
        if self._exempt(caller, self.tickets):
            return
        key = _key(self.tickets, caller)
        used, window_ends = await ratelimits.hit(session, key, WINDOW)
        if used > self.tickets.limit:
            await ratelimits.give_back(session, key, 1)  # should the caller commit anyway
            raise _refusal(self.tickets, window_ends)

    @asynccontextmanager
    async def upload(self, caller: User, size_bytes: int) -> AsyncIterator[None]:
        """Count an upload of `caller` for the block that takes it; 429 past the quota.

        If the block fails, the upload is given back."""
        amount = math.ceil(size_bytes / KIB)
        charged = await self._charge(caller, self.upload_kib, amount)
        try:
            yield
        except BaseException:
            if charged:
                # Shielded: a request cancelled mid-upload still gives its count back.
                await asyncio.shield(self._give_back(caller, self.upload_kib, amount))
            raise

    @staticmethod
    def _exempt(caller: User, quota: Quota) -> bool:
        return caller.role.is_staff or quota.limit == 0

    async def _charge(self, caller: User, quota: Quota, amount: int) -> bool:
        """Count `amount` against `caller`'s quota in a transaction of its own (False:
        nothing to count). Over the quota the amount is given back at once and 429 raised."""
        if self._exempt(caller, quota):
            return False
        key = _key(quota, caller)
        async with self._sessions.begin() as session:
            used, window_ends = await ratelimits.hit(session, key, WINDOW, amount)
            if used > quota.limit:
                await ratelimits.give_back(session, key, amount)
            self._counted += 1
            if self._counted % SWEEP_EVERY == 0:
                await ratelimits.sweep(session, SWEEP_AFTER)
        if used > quota.limit:
            raise _refusal(quota, window_ends)
        return True

    async def _give_back(self, caller: User, quota: Quota, amount: int) -> None:
        async with self._sessions.begin() as session:
            await ratelimits.give_back(session, _key(quota, caller), amount)


def _refusal(quota: Quota, window_ends: datetime) -> QuotaExceededError:
    left = (window_ends - datetime.now(UTC)).total_seconds()
    return QuotaExceededError(quota.refusal, max(1, math.ceil(left)))


def _key(quota: Quota, caller: User) -> str:
    # Hashed, as the login limits' keys are: the row need not say whose count it is.
    return hashlib.sha256(f"quota\x1f{quota.name}\x1f{caller.id}".encode()).hexdigest()


async def get_quotas(request: Request) -> RequesterQuotas:
    quotas: RequesterQuotas = request.app.state.quotas
    return quotas


QuotasDep = Annotated[RequesterQuotas, Depends(get_quotas)]
