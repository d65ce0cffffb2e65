"""Per-client throttling of the endpoints that guess or spam credentials.

Limits are written as `limits` parses them ("10/minute"); the attempts are counted in
PostgreSQL (`persistence.ratelimits`), so every API process counts the same ones: an API
started with `--processes 4` still lets a guesser try 10 passwords a minute, not 40. Each
count is its own short transaction, committed whatever the request then does, so a failed
login counts.
"""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from fastapi import Request
from limits import RateLimitItem, parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.errors import ApiError
from persistence import ratelimits

LOGIN = parse("10/minute")
REGISTER = parse("5/minute")
FORGOT_PASSWORD = parse("5/15 minutes")
# Voting on an article needs no account, so one client could stuff the counts; a few votes
# an hour per article still let a whole office behind one address say what it thinks.
KB_VOTE = parse("10/hour")

# Every so many counts a process sweeps the counters of windows over for a day.
SWEEP_EVERY = 500
SWEEP_AFTER = timedelta(days=1)


class RateLimitedError(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            f"too many attempts; retry in {retry_after} s",
            code="rate_limited",
            headers={"Retry-After": str(retry_after)},
        )


class RateLimiter:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], enabled: bool = True) -> None:
        self.enabled = enabled
        self._sessions = sessions
        self._counted = 0

    async def check(self, item: RateLimitItem, scope: str, request: Request, subject: str) -> None:
        """Count one attempt of `scope` by this client about `subject` (an e-mail, an
        article); raise 429 past the limit."""
        if not self.enabled:
            return
        client = request.client.host if request.client else "unknown"
        period = timedelta(seconds=item.get_expiry())
        key = _key(item, scope, client, subject.strip().casefold())
        async with self._sessions.begin() as session:
            hits, window_ends = await ratelimits.hit(session, key, period)
            self._counted += 1
            if self._counted % SWEEP_EVERY == 0:
                await ratelimits.sweep(session, SWEEP_AFTER)
        if hits <= item.amount:
            return
        left = (window_ends - datetime.now(UTC)).total_seconds()
        raise RateLimitedError(max(1, math.ceil(left)))


def _key(item: RateLimitItem, *parts: str) -> str:
    # Hashed: the row need not say which address tried which e-mail.
    joined = "\x1f".join((str(item), *parts))
    return hashlib.sha256(joined.encode()).hexdigest()
