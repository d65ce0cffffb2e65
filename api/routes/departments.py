"""`/departments`."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import AdminUser, CurrentUser, SessionDep
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.departments import DepartmentCreate, DepartmentOut, DepartmentUpdate
from api.services import departments as service
from domain.errors import NotFound
from persistence.repositories import departments as departments_repo

router = APIRouter(
    prefix=f"{API_PREFIX}/departments", tags=["departments"], responses=PROBLEM_RESPONSES
)


@router.get("", summary="List departments [Auth]")
async def list_departments(
    _: CurrentUser,
    session: SessionDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[DepartmentOut]:
    page = await departments_repo.list_departments(session, limit=limit, cursor=cursor)
    items = [DepartmentOut.model_validate(d) for d in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a department [Admin]")
async def create_department(
    _: AdminUser, session: SessionDep, body: DepartmentCreate
) -> DepartmentOut:
    department = await service.create_department(session, body)
    await session.commit()
    return DepartmentOut.model_validate(department)


@router.get("/{department_id}", summary="A department [Auth]")
async def get_department(department_id: UUID, _: CurrentUser, session: SessionDep) -> DepartmentOut:
    department = await departments_repo.get(session, department_id)
    if department is None:
        raise NotFound("no such department")
    return DepartmentOut.model_validate(department)


@router.put("/{department_id}", summary="Update a department [Admin]")
async def update_department(
    department_id: UUID, _: AdminUser, session: SessionDep, body: DepartmentUpdate
) -> DepartmentOut:
    department = await service.update_department(session, department_id, body)
    await session.commit()
    return DepartmentOut.model_validate(department)


@router.delete(
    "/{department_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a department without tickets [Admin]",
)
async def delete_department(department_id: UUID, _: AdminUser, session: SessionDep) -> Response:
    if not await departments_repo.delete_department(session, department_id):
        raise NotFound("no such department")
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
