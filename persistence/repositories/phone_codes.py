"""SMS codes that prove a phone number: issued one at a time, tried a few times, used once."""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import PhoneCode


async def issue(
    session: AsyncSession,
    *,
    user_id: UUID,
    phone: str,
    code_hash: str,
    expires_at: datetime,
    code_id: UUID | None = None,
) -> PhoneCode:
    """A new code for the user; any earlier one stops working (only the latest counts)."""
    await session.execute(
        update(PhoneCode)
        .where(PhoneCode.user_id == user_id, PhoneCode.used_at.is_(None))
        .values(used_at=func.now())
    )
    code = PhoneCode(
        id=code_id or uuid4(),
        user_id=user_id,
        phone=phone,
        code_hash=code_hash,
        expires_at=expires_at,
    )
    session.add(code)
    await session.flush()
    return code


async def take_attempt(session: AsyncSession, user_id: UUID, max_attempts: int) -> PhoneCode | None:
    """Count one try at the user's live code and return it; None when there is none left
    (never asked, expired, used, or out of tries).

    The try is counted before the code is compared, in the statement that finds it; the
    conditions are on the UPDATE itself, which PostgreSQL checks again on a row a parallel
    guess has just changed: two guesses cannot share one attempt.
    """
    live = (
        PhoneCode.used_at.is_(None),
        PhoneCode.expires_at > func.now(),
        PhoneCode.attempts < max_attempts,
    )
    latest = (
        select(PhoneCode.id)
        .where(PhoneCode.user_id == user_id, *live)
        .order_by(PhoneCode.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    statement = (
        update(PhoneCode)
        .where(PhoneCode.id == latest, *live)
        .values(attempts=PhoneCode.attempts + 1)
        .returning(PhoneCode)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def count_for_user(session: AsyncSession, user_id: UUID, since: datetime) -> int:
    """Codes the user asked for since then."""
    statement = select(func.count()).where(
        PhoneCode.user_id == user_id, PhoneCode.created_at >= since
    )
    return int(await session.scalar(statement) or 0)


async def count_for_number(session: AsyncSession, phone: str, since: datetime) -> int:
    """Codes sent to this number (however written) since then, by anyone."""
    digits = re.sub(r"\D", "", phone)
    stored = func.regexp_replace(PhoneCode.phone, r"\D", "", "g")
    statement = select(func.count()).where(stored == digits, PhoneCode.created_at >= since)
    return int(await session.scalar(statement) or 0)


async def use(session: AsyncSession, code_id: UUID) -> bool:
    """Mark the code used; False if it already was."""
    statement = (
        update(PhoneCode)
        .where(PhoneCode.id == code_id, PhoneCode.used_at.is_(None))
        .values(used_at=func.now())
        .returning(PhoneCode.id)
    )
    return await session.scalar(statement) is not None
