"""Admin accounts made by an operator, not through the API: the first one, or a lost one.

A password the operator did not choose is generated, shown once and good for one thing only:
signing in to choose a real one (`users.password_change_required`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.security import hash_password
from api.services.passwords import WeakPasswordError, check_password_strength, user_words
from domain.enums import Locale, Role
from persistence.models import User
from persistence.repositories import mfa_codes
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo

MIN_PASSWORD_LENGTH = 8  # as the API asks of every password
MAX_PASSWORD_LENGTH = 128
DEFAULT_NAME = "Administrator"


class AdminError(Exception):
    """The admin account cannot be made or changed as asked; the message says why."""


@dataclass(frozen=True)
class AdminAccount:
    user: User
    # A password generated here, to show the operator once; None when they chose it.
    generated_password: str | None


async def _password(given: str | None, email: str, name: str) -> tuple[str, bool]:
    """The password to set and whether it was generated; one given must be as good as the
    API asks of every password (long enough, hard to guess)."""
    if given is None:
        return secrets.token_urlsafe(12), True
    if len(given) < MIN_PASSWORD_LENGTH:
        raise AdminError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(given) > MAX_PASSWORD_LENGTH:
        raise AdminError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    try:
        await check_password_strength(given, user_words(email, name))
    except WeakPasswordError as weak:
        raise AdminError(weak.detail) from weak
    return given, False


async def create_admin(
    session: AsyncSession,
    email: str,
    *,
    password: str | None = None,
    name: str = DEFAULT_NAME,
    locale: Locale = Locale.EN,
    promote: bool = False,
) -> AdminAccount:
    """An admin account for `email`: new, or a deleted one brought back.

    A live account that is not an admin is only promoted with `promote`: anyone can register
    an address, so an address alone must never be enough to become admin.
    """
    chosen, generated = await _password(password, email, name)
    hashed = await hash_password(chosen)
    shown = chosen if generated else None
    existing = await users_repo.find_any_by_email(session, email)
    if existing is None:
        user = await users_repo.create(
            session,
            email=email,
            password_hash=hashed,
            name=name,
            role=Role.ADMIN,
            locale=locale,
            password_change_required=generated,
        )
        return AdminAccount(user, shown)
    if existing.deleted_at is None and existing.role is Role.ADMIN:
        raise AdminError(f"{email} is already an admin; use `ticketflow admin reset-password`")
    if existing.deleted_at is None and not promote:
        raise AdminError(
            f"{email} belongs to an existing {existing.role.value} account; "
            "pass --promote to make that account an admin"
        )
    user = await users_repo.restore_as_admin(
        session, existing.id, hashed, change_required=generated
    )
    await tokens_repo.revoke_all(session, user.id)
    return AdminAccount(user, shown)


async def reset_password(
    session: AsyncSession, email: str, *, password: str | None = None, reset_mfa: bool = False
) -> AdminAccount:
    """A new password for the live account `email`; every session it had ends (its access
    tokens with them). `reset_mfa` also turns its second factor off (a lost phone)."""
    user = await users_repo.get_by_email(session, email)
    if user is None:
        raise AdminError(f"no account {email}; make one with `ticketflow admin create`")
    chosen, generated = await _password(password, user.email, user.name)
    await users_repo.set_password(
        session, user.id, await hash_password(chosen), change_required=generated
    )
    if reset_mfa:
        await users_repo.clear_mfa(session, user.id)
        await mfa_codes.delete_all(session, user.id)
    await tokens_repo.revoke_all(session, user.id)
    return AdminAccount(user, chosen if generated else None)
