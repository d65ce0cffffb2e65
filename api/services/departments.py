"""Creating and changing departments."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.departments import DepartmentCreate, DepartmentUpdate
from domain.enums import Role
from domain.errors import Conflict, InvalidInput, NotFound
from persistence.models import Department
from persistence.repositories import departments as departments_repo
from persistence.repositories import users as users_repo
from persistence.repositories.departments import DepartmentChanges


async def _check_manager(session: AsyncSession, manager_id: UUID | None) -> None:
    if manager_id is None:
        return
    manager = await users_repo.get(session, manager_id)
    if manager is None or manager.role not in (Role.AGENT, Role.ADMIN):
        raise InvalidInput("the manager must be an existing agent or admin")


async def _check_name_free(
    session: AsyncSession, name: str, department_id: UUID | None = None
) -> None:
    existing = await departments_repo.get_by_name(session, name)
    if existing is not None and existing.id != department_id:
        raise Conflict(f"a department named {name!r} already exists")


async def create_department(session: AsyncSession, body: DepartmentCreate) -> Department:
    await _check_name_free(session, body.name)
    await _check_manager(session, body.manager_id)
    return await departments_repo.create(session, **body.model_dump())


async def update_department(
    session: AsyncSession, department_id: UUID, body: DepartmentUpdate
) -> Department:
    if body.name is not None:
        await _check_name_free(session, body.name, department_id)
    await _check_manager(session, body.manager_id)
    changes = DepartmentChanges(**body.model_dump(exclude_unset=True))
    department = await departments_repo.update_department(session, department_id, changes)
    if department is None:
        raise NotFound("no such department")
    return department
