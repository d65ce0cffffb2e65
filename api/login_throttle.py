"""Slowing password guessing down without locking the owner out (docs/security.md).

Failed sign-ins are counted under three keys, in PostgreSQL for every API process:

- the account and the client address together: after a few failures this client must
  wait before trying this account again, twice as long after every further failure (up
  to a cap). Nobody else waits: the owner, from any other address, is still let in.
- the account alone: many failures from anywhere mean it is under attack, and then every
  address gets fewer free tries at it before its own waits start.
- the client address alone: past a number of failures (whatever the accounts), a spray,
  the address may not try any account until its window ends.

A request that must wait is answered 429 with Retry-After, before any password is hashed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.ratelimit import RateLimitedError, hashed_key
from persistence import login_throttle

# An account and an address: failures count for an hour from the first.
PAIR_WINDOW = timedelta(hours=1)
# Failures before the pair's waits start, normally and while the account is under attack.
PAIR_FREE = 5
PAIR_FREE_UNDER_ATTACK = 2
FIRST_WAIT = timedelta(seconds=1)
LONGEST_WAIT = timedelta(minutes=15)
# An account: this many failures from anywhere in the window mean it is under attack.
ACCOUNT_WINDOW = timedelta(minutes=15)
UNDER_ATTACK = 10
# An address: this many failures in the window, whichever accounts, and it is a spray.
ADDRESS_WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES = 20

SWEEP_EVERY = 500
SWEEP_AFTER = timedelta(days=1)


def pair_wait(failures: int, under_attack: bool) -> timedelta | None:
    """How long an address must wait after its `failures`-th failure on one account."""
    free = PAIR_FREE_UNDER_ATTACK if under_attack else PAIR_FREE
    if failures < free:
        return None
    doublings = min(failures - free, 20)  # 2**20 s is far past the cap already
    wait: timedelta = min(FIRST_WAIT * 2**doublings, LONGEST_WAIT)
    return wait


@dataclass(frozen=True)
class _Keys:
    pair: str
    account: str
    address: str

    @classmethod
    def of(cls, email: str, address: str) -> _Keys:
        account = email.strip().casefold()
        return cls(
            pair=hashed_key("login-pair", account, address),
            account=hashed_key("login-account", account),
            address=hashed_key("login-address", address),
        )


class LoginThrottle:
    """The three counters of failed sign-ins, and the waits they impose."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], enabled: bool = True) -> None:
        self.enabled = enabled
        self._sessions = sessions
        self._counted = 0

    async def gate(self, email: str, address: str) -> None:
        """Raise 429 if this address must wait before trying this account (or any)."""
        if not self.enabled:
            return
        keys = _Keys.of(email, address)
        async with self._sessions.begin() as session:
            counts = await login_throttle.current(session, [keys.pair, keys.address])
        wait = max((left for _, left in counts.values()), default=0.0)
        if wait > 0:
            raise RateLimitedError(max(1, math.ceil(wait)))

    async def failed(self, email: str, address: str) -> None:
        """Count a failed sign-in of this address on this account, and set its waits."""
        if not self.enabled:
            return
        keys = _Keys.of(email, address)
        async with self._sessions.begin() as session:
            on_account, _ = await login_throttle.fail(session, keys.account, ACCOUNT_WINDOW)
            on_pair, _ = await login_throttle.fail(session, keys.pair, PAIR_WINDOW)
            wait = pair_wait(on_pair, under_attack=on_account >= UNDER_ATTACK)
            if wait is not None:
                await login_throttle.wait(session, keys.pair, wait)
            from_address, _ = await login_throttle.fail(session, keys.address, ADDRESS_WINDOW)
            if from_address >= ADDRESS_FAILURES:
                await login_throttle.wait(session, keys.address, ADDRESS_WINDOW)
            await self._sweep_now_and_then(session)

    async def succeeded(self, email: str, address: str) -> None:
        """The right password from this address: its own failures on the account are over.

        The account's and the address's counts stay: others' failures are not forgiven.
        """
        if not self.enabled:
            return
        async with self._sessions.begin() as session:
            await login_throttle.forget(session, _Keys.of(email, address).pair)

    async def _sweep_now_and_then(self, session: AsyncSession) -> None:
        self._counted += 1
        if self._counted % SWEEP_EVERY == 0:
            await login_throttle.sweep(session, SWEEP_AFTER)
