"""Proving a phone number: a six-digit code texted to it, typed back within minutes.

Only a keyed hash of the code is stored (a plain hash of six digits is undone by trying a
million); it works once, for CODE_TTL and MAX_ATTEMPTS tries, and asking for another one
ends the earlier. A proven number is the account's, verified, and unique among accounts:
texts from it are bound to this account alone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.ratelimit import RateLimitedError
from api.services import account_messages
from api.services.account_messages import Prepared
from domain.errors import Conflict, InvalidInput
from persistence.models import User
from persistence.repositories import phone_codes as phone_codes_repo
from persistence.repositories import users as users_repo
from security.signing import KeyRing

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
# Texts cost money and reach people who may not have asked: a few codes per account, and a
# few per number whoever asks, are plenty for someone typing their own.
PER_USER = (3, timedelta(minutes=15))
PER_NUMBER = (5, timedelta(hours=1))


def code_hash(secret: str, code_id: UUID, phone: str, code: str) -> str:
    message = f"{code_id}:{users_repo.phone_digits(phone)}:{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _matches(keys: KeyRing, code_id: UUID, phone: str, code: str, stored: str) -> bool:
    # Every key still honoured: a code sent just before a rotation keeps working.
    secrets_ = [keys.current.secret, *(key.secret for key in keys.previous)]
    found = [hmac.compare_digest(code_hash(s, code_id, phone, code), stored) for s in secrets_]
    return any(found)


async def _check_pace(session: AsyncSession, user: User, phone: str) -> None:
    now = datetime.now(UTC)
    for count, period, recent in (
        (*PER_USER, await phone_codes_repo.count_for_user(session, user.id, now - PER_USER[1])),
        (*PER_NUMBER, await phone_codes_repo.count_for_number(session, phone, now - PER_NUMBER[1])),
    ):
        if recent >= count:
            raise RateLimitedError(int(period.total_seconds()))


async def start(session: AsyncSession, keys: KeyRing, user: User, phone: str) -> Prepared:
    """Issue a code for `phone` and prepare its SMS (started after the caller's commit)."""
    digits = users_repo.phone_digits(phone)
    if user.phone_verified_at is not None and users_repo.phone_digits(user.phone) == digits:
        raise Conflict("this number is already verified on your account")
    await _check_pace(session, user, phone)
    code = f"{secrets.randbelow(1_000_000):06d}"
    code_id = uuid4()
    await phone_codes_repo.issue(
        session,
        user_id=user.id,
        phone=phone,
        code_hash=code_hash(keys.current.secret, code_id, phone, code),
        expires_at=datetime.now(UTC) + CODE_TTL,
        code_id=code_id,
    )
    return await account_messages.code_message(session, keys, user, phone, code_id, code, CODE_TTL)


async def verify(session: AsyncSession, keys: KeyRing, user: User, code: str) -> User:
    """Check the code against the user's latest one; the number becomes theirs, verified.

    Every try is committed before the answer, right or wrong: the count of tries holds even
    when the request then fails.
    """
    live = await phone_codes_repo.take_attempt(session, user.id, MAX_ATTEMPTS)
    await session.commit()
    if live is None:
        raise InvalidInput("no code to check (expired, used or out of tries): ask for a new one")
    if not _matches(keys, live.id, live.phone, code, live.code_hash):
        left = MAX_ATTEMPTS - live.attempts
        raise InvalidInput(f"wrong code; {left} {'try' if left == 1 else 'tries'} left")
    await phone_codes_repo.use(session, live.id)
    try:
        async with session.begin_nested():
            verified = await users_repo.mark_phone_verified(session, user.id, live.phone)
    except IntegrityError:
        await session.commit()  # the code is spent all the same
        raise Conflict("this number is verified by another account") from None
    if verified is None:
        raise InvalidInput("this account no longer exists")
    return verified
