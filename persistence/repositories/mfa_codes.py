"""Recovery codes of a second factor: stored by hash, each used once."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import MfaRecoveryCode


async def replace(session: AsyncSession, user_id: UUID, code_hashes: Iterable[str]) -> None:
    """The user's recovery codes are these (earlier ones, used or not, are gone)."""
    await delete_all(session, user_id)
    session.add_all(MfaRecoveryCode(user_id=user_id, code_hash=h) for h in code_hashes)
    await session.flush()


async def use(session: AsyncSession, user_id: UUID, code_hash: str) -> bool:
    """Use one unused code of this user: False if it is not one (or was used)."""
    statement = (
        update(MfaRecoveryCode)
        .where(
            MfaRecoveryCode.user_id == user_id,
            MfaRecoveryCode.code_hash == code_hash,
            MfaRecoveryCode.used_at.is_(None),
        )
        .values(used_at=func.now())
        .returning(MfaRecoveryCode.id)
    )
    return await session.scalar(statement) is not None


async def unused_count(session: AsyncSession, user_id: UUID) -> int:
    statement = select(func.count()).where(
        MfaRecoveryCode.user_id == user_id, MfaRecoveryCode.used_at.is_(None)
    )
    return int(await session.scalar(statement) or 0)


async def delete_all(session: AsyncSession, user_id: UUID) -> None:
    await session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user_id))
