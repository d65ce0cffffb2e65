"""Refresh tokens (rotated, revocable) and single-use tokens (password reset, e-mail check,
invitation).

A session is one login: its refresh tokens (one live at a time, rotation links them) share a
`session_id`, and so do its access tokens. Revoking a session's tokens ends the session,
its access tokens included (`live_session_user`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import RefreshToken, TokenChannel, TokenPurpose, User, UserToken


async def issue_refresh(
    session: AsyncSession, *, jti: UUID, user_id: UUID, expires_at: datetime, session_id: UUID
) -> RefreshToken:
    token = RefreshToken(id=jti, user_id=user_id, expires_at=expires_at, session_id=session_id)
    session.add(token)
    await session.flush()
    return token


async def live_session_user(session: AsyncSession, user_id: UUID, session_id: UUID) -> User | None:
    """The live (not deleted) user `user_id`, if their session `session_id` has not ended.

    One statement, on the users primary key and the refresh tokens' session index: what
    every authenticated request costs.
    """
    live = exists().where(
        RefreshToken.session_id == session_id,
        RefreshToken.user_id == user_id,
        RefreshToken.revoked_at.is_(None),
    )
    statement = select(User).where(User.id == user_id, User.deleted_at.is_(None), live)
    return await session.scalar(statement)


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
        .returning(RefreshToken.user_id, RefreshToken.session_id)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    user_id, session_id = row
    return await issue_refresh(
        session, jti=new_jti, user_id=user_id, expires_at=expires_at, session_id=session_id
    )


async def revoke_session(session: AsyncSession, user_id: UUID, session_id: UUID) -> int:
    """End one session of a user: its live refresh tokens, and so its access tokens."""
    statement = (
        update(RefreshToken)
        .where(
            RefreshToken.session_id == session_id,
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
        .returning(RefreshToken.id)
    )
    return len((await session.scalars(statement)).all())


async def revoke_all(session: AsyncSession, user_id: UUID) -> int:
    """End every session of a user (logout everywhere, password change or reset, an admin's
    change): their refresh tokens, and with them every access token they hold."""
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
