"""Creating and changing accounts."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.users import UserCreate, UserUpdate
from api.security import hash_password
from api.services.passwords import check_password_strength, user_words
from domain.enums import Role, UserStatus
from domain.errors import Conflict, InvalidInput, NotFound
from persistence.models import User
from persistence.repositories import departments as departments_repo
from persistence.repositories import tokens as tokens_repo
from persistence.repositories import users as users_repo
from persistence.repositories.users import ProfileChanges


async def get_user(session: AsyncSession, user_id: UUID) -> User:
    user = await users_repo.get(session, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


async def check_department(session: AsyncSession, department_id: UUID | None) -> None:
    if department_id is not None and await departments_repo.get(session, department_id) is None:
        raise InvalidInput(f"no department {department_id}")


async def ensure_email_free(session: AsyncSession, email: str) -> None:
    if await users_repo.get_by_email(session, email) is not None:
        raise Conflict("an account with this e-mail already exists")


async def create_user(session: AsyncSession, body: UserCreate) -> User:
    await ensure_email_free(session, body.email)
    await check_department(session, body.department_id)
    password = body.password.get_secret_value()
    await check_password_strength(password, user_words(body.email, body.name))
    user = await users_repo.create(
        session,
        email=body.email,
        password_hash=await hash_password(password),
        name=body.name,
        role=body.role,
        department_id=body.department_id,
        locale=body.locale,
        skills=body.skills,
        phone=body.phone,
    )
    extra = body.model_dump(include={"status", "slack_user_id"}, exclude_unset=True)
    if extra:
        changed = await users_repo.update_profile(session, user.id, ProfileChanges(**extra))
        user = changed or user
    return user


async def update_user(session: AsyncSession, user_id: UUID, body: UserUpdate) -> User:
    if "department_id" in body.model_fields_set:
        await check_department(session, body.department_id)
    changes = ProfileChanges(**body.model_dump(exclude_unset=True))
    user = await users_repo.update_profile(session, user_id, changes)
    if user is None:
        raise NotFound("no such user")
    if body.status is UserStatus.INACTIVE:
        # Disabled is disabled now: its sessions end, and do not come back with the account.
        await tokens_repo.revoke_all(session, user_id)
    return user


async def change_role(session: AsyncSession, user_id: UUID, role: Role) -> User:
    """A new role; the user's sessions end if it changed, so no token outlives the old one."""
    before = await get_user(session, user_id)
    if before.role is role:
        return before
    user = await users_repo.update_role(session, user_id, role)
    if user is None:
        raise NotFound("no such user")
    await tokens_repo.revoke_all(session, user_id)
    return user


async def delete_user(session: AsyncSession, user_id: UUID) -> None:
    """Soft-delete the user and end every session of theirs."""
    if not await users_repo.soft_delete(session, user_id):
        raise NotFound("no such user")
    await tokens_repo.revoke_all(session, user_id)
