"""Departments, and the terms a ticket's workflow takes from its department."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict
from domain.ticket import DEFAULT_AUTO_CLOSE_AFTER, DEFAULT_REOPEN_WINDOW, DepartmentTerms
from persistence.models import Department, Ticket
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

NEWEST_FIRST = Keyset((Department.created_at, Department.id))


class DepartmentChanges(BaseModel):
    """Fields an update may set; only the fields given are changed (None clears optional ones)."""

    name: str | None = None
    description: str | None = None
    notification_email: str | None = None
    manager_id: UUID | None = None
    auto_close_after: timedelta | None = None
    reopen_window: timedelta | None = None


_REQUIRED = {"name", "auto_close_after", "reopen_window"}


async def get(session: AsyncSession, department_id: UUID) -> Department | None:
    return await session.get(Department, department_id)


async def get_by_name(session: AsyncSession, name: str) -> Department | None:
    return await session.scalar(select(Department).where(Department.name == name))


async def list_departments(
    session: AsyncSession, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None
) -> Page[Department]:
    """Departments, newest first."""
    return await paginate(session, select(Department), NEWEST_FIRST, limit=limit, cursor=cursor)


async def create(
    session: AsyncSession,
    *,
    name: str,
    description: str | None = None,
    notification_email: str | None = None,
    manager_id: UUID | None = None,
    auto_close_after: timedelta = DEFAULT_AUTO_CLOSE_AFTER,
    reopen_window: timedelta = DEFAULT_REOPEN_WINDOW,
) -> Department:
    """Insert a department; a taken name raises `IntegrityError`."""
    department = Department(
        name=name,
        description=description,
        notification_email=notification_email,
        manager_id=manager_id,
        auto_close_after=auto_close_after,
        reopen_window=reopen_window,
    )
    session.add(department)
    await session.flush()
    return department


async def update_department(
    session: AsyncSession, department_id: UUID, changes: DepartmentChanges
) -> Department | None:
    values: dict[str, Any] = {
        field: value
        for field, value in changes.model_dump(exclude_unset=True).items()
        if value is not None or field not in _REQUIRED
    }
    if not values:
        return await get(session, department_id)
    statement = (
        update(Department)
        .where(Department.id == department_id)
        .values(**values)
        .returning(Department)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def delete_department(session: AsyncSession, department_id: UUID) -> bool:
    """Delete a department without tickets; `Conflict` if tickets still belong to it."""
    if await session.scalar(select(exists().where(Ticket.department_id == department_id))):
        raise Conflict("the department still has tickets; move them first")
    statement = delete(Department).where(Department.id == department_id)
    return await session.scalar(statement.returning(Department.id)) is not None


async def terms(session: AsyncSession, department_id: UUID) -> DepartmentTerms | None:
    """What a ticket's workflow needs of its department, or None if there is no such one."""
    department = await get(session, department_id)
    if department is None:
        return None
    return DepartmentTerms(
        id=department.id,
        name=department.name,
        manager_id=department.manager_id,
        auto_close_after=department.auto_close_after,
        reopen_window=department.reopen_window,
    )
