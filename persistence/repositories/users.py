"""Users: lookups, registration, profile and role changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import Select, func, select, update
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


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _live() -> Select[User]:
    return select(User).where(User.deleted_at.is_(None))


async def get(session: AsyncSession, user_id: UUID) -> User | None:
    """A user who has not been deleted."""
    return await session.scalar(_live().where(User.id == user_id))


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    # lower(email), not email: the expression the unique index is built on.
    return await session.scalar(_live().where(func.lower(User.email) == normalize_email(email)))


async def get_many(session: AsyncSession, user_ids: Sequence[UUID]) -> dict[UUID, User]:
    users = await session.scalars(_live().where(User.id.in_(set(user_ids))))
    return {user.id: user for user in users}


async def create(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    name: str,
    role: Role = Role.USER,
    department_id: UUID | None = None,
    locale: Locale = Locale.EN,
    skills: Sequence[str] = (),
    phone: str | None = None,
) -> User:
    """Insert a user; a taken e-mail raises `IntegrityError` (unique on lower(email))."""
    user = User(
        email=normalize_email(email),
        password_hash=password_hash,
        name=name,
        role=role,
        department_id=department_id,
        locale=locale,
        skills=list(skills),
        phone=phone,
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
    values = {
        field: value
        for field, value in changes.model_dump(exclude_unset=True).items()
        if value is not None or field in _CLEARABLE
    }
    if not values:
        return await get(session, user_id)
    return await _update(session, user_id, **values)


async def set_password(session: AsyncSession, user_id: UUID, password_hash: str) -> bool:
    return await _update(session, user_id, password_hash=password_hash) is not None


async def record_login(session: AsyncSession, user_id: UUID) -> None:
    await _update(session, user_id, last_login_at=func.now())


async def mark_email_verified(session: AsyncSession, user_id: UUID) -> None:
    await _update(session, user_id, email_verified_at=func.now())


async def soft_delete(session: AsyncSession, user_id: UUID) -> bool:
    """Hide the user everywhere; their tickets and comments keep pointing at the row."""
    return await _update(session, user_id, deleted_at=func.now()) is not None
