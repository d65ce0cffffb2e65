"""Sessions: login (with a second factor where enrolled), rotating refresh tokens, logout,
change of password.

How an account comes to be and proves its addresses (registration, verification, reset,
invitations) is `api.services.accounts`.
"""

from __future__ import annotations

import logging
from uuid import uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError, UnauthorizedError
from api.ratelimit import hashed_key
from api.schemas.auth import MfaChallenge, TokenPair
from api.schemas.users import UserOut
from api.security import (
    ACCESS_TTL,
    MFA_CHALLENGE_TTL,
    InvalidTokenError,
    TokenClaims,
    TokenType,
    decode_token,
    hash_password,
    issue_token,
    verify_password,
)
from api.services import mfa
from api.services.passwords import check_password_strength, user_words
from domain.enums import UserStatus
from domain.errors import InvalidInput
from persistence import ratelimits
from persistence.models import User
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo
from ticketflow.settings import Settings

log = logging.getLogger(__name__)


async def issue_pair(session: AsyncSession, settings: Settings, user: User) -> TokenPair:
    """A new session: an access token and a stored (revocable) refresh token naming it."""
    session_id = uuid4()
    keys = settings.access_keys
    access = issue_token(keys, user.id, user.role, TokenType.ACCESS, session_id=session_id)
    refresh = issue_token(keys, user.id, user.role, TokenType.REFRESH, session_id=session_id)
    await tokens_repo.issue_refresh(
        session,
        jti=refresh.claims.jti,
        user_id=user.id,
        expires_at=refresh.claims.expires_at,
        session_id=session_id,
    )
    return _pair(access.token, refresh.token, user)


def _pair(access: str, refresh: str, user: User) -> TokenPair:
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(ACCESS_TTL.total_seconds()),
        user=UserOut.model_validate(user),
    )


async def check_password(session: AsyncSession, email: str, password: str) -> User:
    """The account these credentials open (401 if none does, 403 if it is disabled)."""
    user = await users_repo.get_by_email(session, email)
    # Verify even without a user, so a wrong e-mail costs as long as a wrong password.
    valid = await verify_password(password, user.password_hash if user else None)
    if user is None or not valid:
        raise UnauthorizedError("wrong e-mail or password")
    if user.status is UserStatus.INACTIVE:
        raise ApiError(403, "this account is disabled", code="forbidden")
    return user


async def login(
    session: AsyncSession, settings: Settings, email: str, password: str
) -> TokenPair | MfaChallenge:
    """A token pair; or, for an account with a second factor, the challenge to answer
    with a code at `POST /auth/mfa/verify` (`verify_mfa`)."""
    user = await check_password(session, email, password)
    if user.mfa_enabled_at is not None:
        challenge = issue_token(settings.access_keys, user.id, user.role, TokenType.MFA_CHALLENGE)
        return MfaChallenge(
            challenge=challenge.token, expires_in=int(MFA_CHALLENGE_TTL.total_seconds())
        )
    return await _signed_in(session, settings, user)


def read_challenge(settings: Settings, challenge: str) -> TokenClaims:
    """An MFA challenge's claims: whose login it continues (401 for anything else)."""
    try:
        return decode_token(settings.access_keys, challenge, TokenType.MFA_CHALLENGE)
    except InvalidTokenError as error:
        raise UnauthorizedError("invalid or expired challenge; log in again") from error


async def verify_mfa(
    session: AsyncSession, settings: Settings, challenge: str, code: str
) -> TokenPair:
    """The second step of a login: the challenge and a code give the token pair.

    A challenge opens one session: its use is recorded with the session, in the same
    transaction, so a second use (even with another good code) is refused.
    """
    claims = read_challenge(settings, challenge)
    user = await users_repo.get(session, claims.subject)
    if user is None or user.status is UserStatus.INACTIVE:
        raise UnauthorizedError("this account is no longer active")
    if user.mfa_enabled_at is None:
        raise UnauthorizedError("two-factor authentication is off for this account; log in again")
    await mfa.verify(session, settings, user, code)
    used, _ = await ratelimits.hit(
        session, hashed_key("mfa-challenge", str(claims.jti)), MFA_CHALLENGE_TTL
    )
    if used > 1:
        raise UnauthorizedError("this challenge was already used; log in again")
    return await _signed_in(session, settings, user)


async def _signed_in(session: AsyncSession, settings: Settings, user: User) -> TokenPair:
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
    # The session goes on under the same id (read back from the stored token: tokens made
    # before sessions existed name none).
    stored = await tokens_repo.get_refresh(session, claims.jti)
    session_id = stored.session_id if stored is not None else uuid4()
    keys = settings.access_keys
    new = issue_token(keys, user.id, user.role, TokenType.REFRESH, session_id=session_id)
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
    access = issue_token(keys, user.id, user.role, TokenType.ACCESS, session_id=session_id)
    return _pair(access.token, new.token, user)


async def logout(
    session: AsyncSession, settings: Settings, user: User, refresh_token: str | None
) -> None:
    """End one session (the one a refresh token of it names), or every session of the user;
    their access tokens stop working at once."""
    if refresh_token is None:
        await tokens_repo.revoke_all(session, user.id)
        return
    try:
        claims = decode_token(settings.access_keys, refresh_token, TokenType.REFRESH)
    except InvalidTokenError as error:
        raise InvalidInput("not a valid refresh token") from error
    if claims.subject != user.id:
        raise InvalidInput("this refresh token belongs to another account")
    stored = await tokens_repo.get_refresh(session, claims.jti)
    if stored is not None:
        await tokens_repo.revoke_session(session, user.id, stored.session_id)


async def change_password(
    session: AsyncSession, settings: Settings, user: User, current: str, new: str
) -> TokenPair:
    """Change the password; every other session ends, this one gets a fresh pair."""
    if not await verify_password(current, user.password_hash):
        raise InvalidInput("the current password is wrong")
    if new == current:
        raise InvalidInput("the new password must differ from the current one")
    await check_password_strength(new, user_words(user.email, user.name))
    await users_repo.set_password(session, user.id, await hash_password(new))
    await tokens_repo.revoke_all(session, user.id)
    return await issue_pair(session, settings, user)
