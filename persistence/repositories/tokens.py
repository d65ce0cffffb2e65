"""Refresh tokens (rotated, revocable) and single-use tokens (password reset, e-mail check,
invitation)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import RefreshToken, TokenChannel, TokenPurpose, UserToken


async def issue_refresh(
    session: AsyncSession, *, jti: UUID, user_id: UUID, expires_at: datetime
) -> RefreshToken:
    token = RefreshToken(id=jti, user_id=user_id, expires_at=expires_at)
    session.add(token)
    await session.flush()
    return token


async def get_refresh(session: AsyncSession, jti: UUID) -> RefreshToken | None:
    return await session.get(RefreshToken, jti)


async def rotate_refresh(
    session: AsyncSession, *, old_jti: UUID, new_jti: UUID, expires_at: datetime
) -> RefreshToken | None:
    """Revoke `old_jti` and issue its successor, atomically.

    None when the old token is unknown, expired or already revoked; a revoked token coming
    back means it leaked, and the caller should `revoke_all` of its user.
    """
    statement = (
        update(RefreshToken)
        .where(
            RefreshToken.id == old_jti,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > func.now(),
        )
        .values(revoked_at=func.now(), replaced_by=new_jti)
        .returning(RefreshToken.user_id)
    )
    user_id = await session.scalar(statement)
    if user_id is None:
        return None
    return await issue_refresh(session, jti=new_jti, user_id=user_id, expires_at=expires_at)


async def revoke_refresh(session: AsyncSession, jti: UUID) -> bool:
    statement = (
        update(RefreshToken)
        .where(RefreshToken.id == jti, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(RefreshToken.id)
    )
    return await session.scalar(statement) is not None


async def revoke_all(session: AsyncSession, user_id: UUID) -> int:
    """Revoke every live refresh token of a user (logout everywhere, password change)."""
    statement = (
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(RefreshToken.id)
    )
    return len((await session.scalars(statement)).all())


async def issue_user_token(
    session: AsyncSession,
    *,
    user_id: UUID,
    purpose: TokenPurpose,
    token_hash: str,
    expires_at: datetime,
    channel: TokenChannel = TokenChannel.EMAIL,
) -> UserToken:
    """Store a single-use token by its hash (the token itself only ever goes to the user)."""
    token = UserToken(
        user_id=user_id,
        purpose=purpose,
        token_hash=token_hash,
        expires_at=expires_at,
        channel=channel,
    )
    session.add(token)
    await session.flush()
    return token


async def consume_user_token(
    session: AsyncSession, *, purpose: TokenPurpose, token_hash: str
) -> UserToken | None:
    """Use a token once: the token, or None if unknown, expired, used or for another purpose."""
    statement = (
        update(UserToken)
        .where(
            UserToken.token_hash == token_hash,
            UserToken.purpose == purpose,
            UserToken.used_at.is_(None),
            UserToken.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(UserToken)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def spend_user_tokens(
    session: AsyncSession, user_id: UUID, purposes: Iterable[TokenPurpose]
) -> int:
    """Use up every live token of these purposes (a password was just set: the others that
    could set one must not outlive it)."""
    statement = (
        update(UserToken)
        .where(
            UserToken.user_id == user_id,
            UserToken.purpose.in_(list(purposes)),
            UserToken.used_at.is_(None),
        )
        .values(used_at=func.now())
        .returning(UserToken.id)
    )
    return len((await session.scalars(statement)).all())


async def spend_user_token(session: AsyncSession, token_id: UUID) -> None:
    """Use up one token that was never sent (its message could not be started)."""
    statement = (
        update(UserToken)
        .where(UserToken.id == token_id, UserToken.used_at.is_(None))
        .values(used_at=func.now())
    )
    await session.execute(statement)


async def has_live_token(session: AsyncSession, user_id: UUID, purpose: TokenPurpose) -> bool:
    """Whether the user holds an unused, unexpired token of `purpose` (one is on its way)."""
    statement = select(UserToken.id).where(
        UserToken.user_id == user_id,
        UserToken.purpose == purpose,
        UserToken.used_at.is_(None),
        UserToken.expires_at > func.now(),
    )
    return await session.scalar(statement.limit(1)) is not None


async def live_refresh_count(session: AsyncSession, user_id: UUID) -> int:
    statement = select(func.count()).where(
        RefreshToken.user_id == user_id,
        RefreshToken.revoked_at.is_(None),
        RefreshToken.expires_at > func.now(),
    )
    return int(await session.scalar(statement) or 0)
