"""Sessions: login, rotating refresh tokens, logout, change of password.

How an account comes to be and proves its addresses (registration, verification, reset,
invitations) is `api.services.accounts`.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError, UnauthorizedError
from api.schemas.auth import TokenPair
from api.schemas.users import UserOut
from api.security import (
    ACCESS_TTL,
    InvalidTokenError,
    TokenType,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)
from domain.enums import UserStatus
from domain.errors import InvalidInput
from persistence.models import User
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo
from ticketflow.settings import Settings

log = logging.getLogger(__name__)


async def issue_pair(session: AsyncSession, settings: Settings, user: User) -> TokenPair:
    """A fresh access token and a stored (revocable) refresh token."""
    access = issue_token(settings.access_keys, user.id, user.role, TokenType.ACCESS)
    refresh = issue_token(settings.access_keys, user.id, user.role, TokenType.REFRESH)
    await tokens_repo.issue_refresh(
        session, jti=refresh.claims.jti, user_id=user.id, expires_at=refresh.claims.expires_at
    )
    return _pair(access.token, refresh.token, user)


def _pair(access: str, refresh: str, user: User) -> TokenPair:
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(ACCESS_TTL.total_seconds()),
        user=UserOut.model_validate(user),
    )


async def login(session: AsyncSession, settings: Settings, email: str, password: str) -> TokenPair:
    user = await users_repo.get_by_email(session, email)
    # Verify even without a user, so a wrong e-mail costs as long as a wrong password.
    valid = await verify_password(password, user.password_hash if user else None)
    if user is None or not valid:
        raise UnauthorizedError("wrong e-mail or password")
    if user.status is UserStatus.INACTIVE:
        raise ApiError(403, "this account is disabled", code="forbidden")
    await users_repo.record_login(session, user.id)
    return await issue_pair(session, settings, user)


async def refresh(session: AsyncSession, settings: Settings, token: str) -> TokenPair:
    """Rotate: the presented refresh token is revoked and replaced.

    A revoked token presented again means it was copied: every session of its user ends.
    """
    try:
        claims = decode_token(settings.access_keys, token, TokenType.REFRESH)
    except InvalidTokenError as error:
        raise UnauthorizedError("invalid or expired refresh token") from error
    user = await users_repo.get(session, claims.subject)
    if user is None or user.status is UserStatus.INACTIVE:
        raise UnauthorizedError("this account is no longer active")
    new = issue_token(settings.access_keys, user.id, user.role, TokenType.REFRESH)
    rotated = await tokens_repo.rotate_refresh(
        session, old_jti=claims.jti, new_jti=new.claims.jti, expires_at=new.claims.expires_at
    )
    if rotated is None:
        stored = await tokens_repo.get_refresh(session, claims.jti)
        if stored is not None and stored.revoked_at is not None:
            revoked = await tokens_repo.revoke_all(session, user.id)
            await session.commit()
            log.warning("refresh token reuse for user %s: %d sessions revoked", user.id, revoked)
            raise UnauthorizedError("this refresh token was already used; please log in again")
        raise UnauthorizedError("invalid or expired refresh token")
    access = issue_token(settings.access_keys, user.id, user.role, TokenType.ACCESS)
    return _pair(access.token, new.token, user)


async def logout(
    session: AsyncSession, settings: Settings, user: User, refresh_token: str | None
) -> None:
    """End one session (its refresh token), or every session of the user."""
    if refresh_token is None:
        await tokens_repo.revoke_all(session, user.id)
        return
    try:
        claims = decode_token(settings.access_keys, refresh_token, TokenType.REFRESH)
    except InvalidTokenError as error:
        raise InvalidInput("not a valid refresh token") from error
    if claims.subject != user.id:
        raise InvalidInput("this refresh token belongs to another account")
    await tokens_repo.revoke_refresh(session, claims.jti)


async def change_password(
    session: AsyncSession, settings: Settings, user: User, current: str, new: str
) -> TokenPair:
    """Change the password; every other session ends, this one gets a fresh pair."""
    if not await verify_password(current, user.password_hash):
        raise InvalidInput("the current password is wrong")
    if new == current:
        raise InvalidInput("the new password must differ from the current one")
    await users_repo.set_password(session, user.id, await hash_password(new))
    await tokens_repo.revoke_all(session, user.id)
    return await issue_pair(session, settings, user)
