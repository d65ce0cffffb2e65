"""Per-client throttling of the endpoints that guess or spam credentials.

Backed by `limits` (moving window, in memory): fine for one API process; several processes
would point the same limiter at a shared storage (`limits` speaks Redis, Memcached…).
"""

from __future__ import annotations

import math
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import ApiError

LOGIN = parse("10/minute")
REGISTER = parse("5/minute")
FORGOT_PASSWORD = parse("5/15 minutes")
# Voting on an article needs no account, so one client could stuff the counts; a few votes
# an hour per article still let a whole office behind one address say what it thinks.
KB_VOTE = parse("10/hour")


class RateLimitedError(ApiError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            429,
            f"too many attempts; retry in {retry_after} s",
            code="rate_limited",
            headers={"Retry-After": str(retry_after)},
        )


class RateLimiter:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, item: RateLimitItem, scope: str, request: Request, email: str) -> None:
        """Count one attempt of `scope` by this client and e-mail; raise 429 past the limit."""
        if not self.enabled:
            return
        client = request.client.host if request.client else "unknown"
        keys = (scope, client, email.strip().casefold())
        if self._limiter.hit(item, *keys):
            return
        reset_at = self._limiter.get_window_stats(item, *keys).reset_time
        raise RateLimitedError(max(1, math.ceil(reset_at - time.time())))
