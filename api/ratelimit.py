"""Per-client throttling of the endpoints that guess or spam credentials.

Limits are written as `limits` parses them ("10/minute"); the attempts are counted in
PostgreSQL (`persistence.ratelimits`), so every API process counts the same ones: an API
started with `--processes 4` still lets a guesser try 10 passwords a minute, not 40. Each
count is its own short transaction, committed whatever the request then does, so a failed
login counts.

The client is the request's peer address, or, when the peer is one of the trusted proxies
(TICKETFLOW_TRUSTED_PROXIES), the address it forwards (`api.app` installs the middleware
that does this; without trusted proxies X-Forwarded-For is never believed).

Failed passwords are throttled per account and address by `api.login_throttle`; the limits
here bound what one address may try at all, right or wrong.
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

# Per client address, whatever the account: sign-ins (each costs an argon2 hash), accounts
# made, reset links asked for and used, second-factor codes tried.
LOGIN = parse("30/minute")
REGISTER = parse("5/minute")
FORGOT_PASSWORD = parse("5/15 minutes")
FORGOT_PASSWORD_PER_ADDRESS = parse("20/hour")
RESET_PASSWORD = parse("10/15 minutes")
MFA_VERIFY = parse("10/minute")
# Per account, from anywhere: a six-digit code must not be guessable by many addresses.
MFA_VERIFY_PER_ACCOUNT = parse("10/5 minutes")
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

    async def check(
        self,
        item: RateLimitItem,
        scope: str,
        request: Request,
        subject: str = "",
        *,
        per_address: bool = True,
    ) -> None:
        """Count one attempt of `scope` by this client about `subject` (an e-mail, an
        article; none: anything); raise 429 past the limit. Not `per_address`: by anyone
        about `subject`."""
        if not self.enabled:
            return
        client = client_address(request) if per_address else "*"
        period = timedelta(seconds=item.get_expiry())
        key = hashed_key(str(item), scope, client, subject.strip().casefold())
        async with self._sessions.begin() as session:
            hits, window_ends = await ratelimits.hit(session, key, period)
            self._counted += 1
            if self._counted % SWEEP_EVERY == 0:
                await ratelimits.sweep(session, SWEEP_AFTER)
        if hits <= item.amount:
            return
        left = (window_ends - datetime.now(UTC)).total_seconds()
        raise RateLimitedError(max(1, math.ceil(left)))


def client_address(request: Request) -> str:
    """The client's address (the forwarded one, behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


def hashed_key(*parts: str) -> str:
    """A counter's key: hashed, so the row need not say which address tried which e-mail."""
    joined = "\x1f".join(parts)
    return hashlib.sha256(joined.encode()).hexdigest()
