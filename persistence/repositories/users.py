"""Users: lookups, registration, profile and role changes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Availability, Locale, Role, UserStatus
from persistence.models import User
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

NEWEST_FIRST = Keyset((User.created_at, User.id))


class ProfileChanges(BaseModel):
    """Fields a profile update may set; only the fields given are changed.

    An explicit None clears a nullable field and is ignored for the others.
    """

    name: str | None = None
    phone: str | None = None
    locale: Locale | None = None
    slack_user_id: str | None = None
    skills: list[str] | None = None
    department_id: UUID | None = None
    status: UserStatus | None = None
    notification_preferences: dict[str, bool] | None = None
    push_tokens: list[str] | None = None


_CLEARABLE = {"phone", "slack_user_id", "department_id"}
_NOT_DIGITS = re.compile(r"\D")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def phone_digits(phone: str | None) -> str:
    """A number as its digits alone: `+34 600 12 34 56` and `+34600123456` are one number."""
    return _NOT_DIGITS.sub("", phone or "")


def _stored_digits() -> ColumnElement[str]:
    # The expression the unique index on verified phones is built on.
    return func.regexp_replace(User.phone, r"\D", "", "g")


def _live() -> Select[User]:
    return select(User).where(User.deleted_at.is_(None))


async def get(session: AsyncSession, user_id: UUID) -> User | None:
    """A user who has not been deleted."""
    return await session.scalar(_live().where(User.id == user_id))


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    # lower(email), not email: the expression the unique index is built on.
    return await session.scalar(_live().where(func.lower(User.email) == normalize_email(email)))


async def find_any_by_email(session: AsyncSession, email: str) -> User | None:
    """The account holding `email`, deleted or not (the unique index covers both)."""
    return await session.scalar(
        select(User).where(func.lower(User.email) == normalize_email(email))
    )


async def admin_exists(session: AsyncSession) -> bool:
    """Whether any live, active account has the admin role."""
    statement = _live().where(User.role == Role.ADMIN, User.status != UserStatus.INACTIVE)
    return await session.scalar(statement.limit(1)) is not None


async def oldest_admin_id(session: AsyncSession) -> UUID | None:
    """The first admin account ever made, deleted or not (what seeded content is by)."""
    statement = select(User.id).where(User.role == Role.ADMIN).order_by(User.created_at, User.id)
    return await session.scalar(statement.limit(1))


async def get_many(session: AsyncSession, user_ids: Sequence[UUID]) -> dict[UUID, User]:
    users = await session.scalars(_live().where(User.id.in_(set(user_ids))))
    return {user.id: user for user in users}


async def create(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str | None,
    name: str,
    role: Role = Role.USER,
    department_id: UUID | None = None,
    locale: Locale = Locale.EN,
    skills: Sequence[str] = (),
    phone: str | None = None,
    password_change_required: bool = False,
) -> User:
    """Insert a user; a taken e-mail raises `IntegrityError` (unique on lower(email)).

    Without a password hash nobody can log in until a link sets one (an invitation).
    """
    user = User(
        email=normalize_email(email),
        password_hash=password_hash,
        name=name,
        role=role,
        department_id=department_id,
        locale=locale,
        skills=list(skills),
        phone=phone,
        password_change_required=password_change_required,
    )
    session.add(user)
    await session.flush()
    return user


async def list_users(
    session: AsyncSession,
    *,
    role: Role | None = None,
    department_id: UUID | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[User]:
    """Users, newest first."""
    statement = _live()
    if role is not None:
        statement = statement.where(User.role == role)
    if department_id is not None:
        statement = statement.where(User.department_id == department_id)
    return await paginate(session, statement, NEWEST_FIRST, limit=limit, cursor=cursor)


async def _update(session: AsyncSession, user_id: UUID, **values: Any) -> User | None:
    statement = (
        update(User)
        .where(User.id == user_id, User.deleted_at.is_(None))
        .values(**values)
        .returning(User)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def update_role(session: AsyncSession, user_id: UUID, role: Role) -> User | None:
    return await _update(session, user_id, role=role)


async def update_availability(
    session: AsyncSession, user_id: UUID, availability: Availability
) -> User | None:
    return await _update(session, user_id, availability=availability)


async def update_profile(
    session: AsyncSession, user_id: UUID, changes: ProfileChanges
) -> User | None:
    """Apply the changes; another phone number (other digits) is no longer verified."""
    values: dict[str, Any] = {
        field: value
        for field, value in changes.model_dump(exclude_unset=True).items()
        if value is not None or field in _CLEARABLE
    }
    if not values:
        return await get(session, user_id)
    if "phone" in values:
        same_number = func.coalesce(_stored_digits(), "") == phone_digits(values["phone"])
        values["phone_verified_at"] = case((same_number, User.phone_verified_at), else_=None)
    return await _update(session, user_id, **values)


async def set_password(
    session: AsyncSession, user_id: UUID, password_hash: str, *, change_required: bool = False
) -> bool:
    """A new password; `change_required` makes it good only for choosing another."""
    changed = await _update(
        session, user_id, password_hash=password_hash, password_change_required=change_required
    )
    return changed is not None


async def restore_as_admin(
    session: AsyncSession, user_id: UUID, password_hash: str, *, change_required: bool
) -> User:
    """Make the account an active admin again, deleted or not, with this password."""
    statement = (
        update(User)
        .where(User.id == user_id)
        .values(
            role=Role.ADMIN,
            status=UserStatus.ACTIVE,
            deleted_at=None,
            password_hash=password_hash,
            password_change_required=change_required,
        )
        .returning(User)
    )
    user = await session.scalar(statement, execution_options={"populate_existing": True})
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


async def record_login(session: AsyncSession, user_id: UUID) -> None:
    await _update(session, user_id, last_login_at=func.now())


async def mark_email_verified(session: AsyncSession, user_id: UUID) -> None:
    """The user proved they read their mailbox (the first proof's time is kept)."""
    await _update(
        session, user_id, email_verified_at=func.coalesce(User.email_verified_at, func.now())
    )


async def mark_phone_verified(session: AsyncSession, user_id: UUID, phone: str) -> User | None:
    """The user proved `phone` is theirs: it becomes their number, verified.

    Raises `IntegrityError` when another account holds the same number verified.
    """
    return await _update(session, user_id, phone=phone, phone_verified_at=func.now())


async def by_verified_phone(session: AsyncSession, phone: str) -> User | None:
    """The live account that proved this number (at most one: the unique index)."""
    statement = _live().where(
        User.phone_verified_at.is_not(None), _stored_digits() == phone_digits(phone)
    )
    return await session.scalar(statement.order_by(User.created_at, User.id).limit(1))


async def passwordless_by_phone(session: AsyncSession, phone: str) -> User | None:
    """The oldest live account with this number and no password: one a text made, which
    only an invitation texted to the number opens."""
    statement = _live().where(
        User.password_hash.is_(None),
        User.phone.is_not(None),
        _stored_digits() == phone_digits(phone),
    )
    return await session.scalar(statement.order_by(User.created_at, User.id).limit(1))


async def take_back(session: AsyncSession, user_id: UUID, *, keep_phone: bool) -> User | None:
    """Void an unproven claim on an account, for the owner of its address to take it over.

    The password goes, and every way the claimant set up to hear from the account (Slack,
    push devices, channel choices, and the phone unless `keep_phone`: the number a text just
    came from). An access token still alive can do nothing but choose a password, which
    needs the one that is gone. The caller revokes the refresh tokens and invites the owner.
    """
    values: dict[str, Any] = {
        "password_hash": None,
        "password_change_required": True,
        "slack_user_id": None,
        "push_tokens": [],
        "notification_preferences": {},
    }
    if not keep_phone:
        values |= {"phone": None, "phone_verified_at": None}
    return await _update(session, user_id, **values)


async def soft_delete(session: AsyncSession, user_id: UUID) -> bool:
    """Hide the user everywhere; their tickets and comments keep pointing at the row.

    A deleted account holds no number: its phone is no longer verified, so another account
    may prove it.
    """
    deleted = await _update(session, user_id, deleted_at=func.now(), phone_verified_at=None)
    return deleted is not None


async def set_mfa_secret(session: AsyncSession, user_id: UUID, encrypted: str) -> None:
    """A new, not yet confirmed, second-factor secret (replacing any unconfirmed one)."""
    await _update(session, user_id, mfa_secret=encrypted, mfa_enabled_at=None, mfa_last_step=None)


async def enable_mfa(session: AsyncSession, user_id: UUID) -> None:
    await _update(session, user_id, mfa_enabled_at=func.now())


async def clear_mfa(session: AsyncSession, user_id: UUID) -> bool:
    """No second factor any more: secret, confirmation and last step gone."""
    cleared = await _update(
        session, user_id, mfa_secret=None, mfa_enabled_at=None, mfa_last_step=None
    )
    return cleared is not None


async def use_mfa_step(session: AsyncSession, user_id: UUID, step: int) -> bool:
    """Record a code of time step `step` as used: False if that step or a later one already
    was (a replayed code). Atomic, so two requests racing with one code cannot both pass."""
    statement = (
        update(User)
        .where(
            User.id == user_id,
            or_(User.mfa_last_step.is_(None), User.mfa_last_step < step),
        )
        .values(mfa_last_step=step)
        .returning(User.id)
    )
    return await session.scalar(statement) is not None
