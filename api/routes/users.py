"""`/users`: accounts, roles and availability."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import AdminUser, CurrentUser, SessionDep
from api.errors import ApiError
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.users import AvailabilityChange, RoleChange, UserCreate, UserOut, UserUpdate
from api.services import users as service
from domain.enums import Role
from domain.errors import NotFound
from persistence.repositories import users as users_repo

router = APIRouter(prefix=f"{API_PREFIX}/users", tags=["users"], responses=PROBLEM_RESPONSES)


@router.get("", summary="List users [Admin]")
async def list_users(
    _: AdminUser,
    session: SessionDep,
    role: Role | None = None,
    department_id: UUID | None = None,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[UserOut]:
    page = await users_repo.list_users(
        session, role=role, department_id=department_id, limit=limit, cursor=cursor
    )
    return Page(items=[UserOut.model_validate(u) for u in page.items], next_cursor=page.next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a user [Admin]")
async def create_user(_: AdminUser, session: SessionDep, body: UserCreate) -> UserOut:
    user = await service.create_user(session, body)
    await session.commit()
    return UserOut.model_validate(user)


@router.get("/{user_id}", summary="A user [Auth: yourself, or staff]")
async def get_user(user_id: UUID, caller: CurrentUser, session: SessionDep) -> UserOut:
    if user_id != caller.id and not caller.role.is_staff:
        raise NotFound("no such user")
    return UserOut.model_validate(await service.get_user(session, user_id))


@router.put("/{user_id}", summary="Update a user [Admin]")
async def update_user(
    user_id: UUID, _: AdminUser, session: SessionDep, body: UserUpdate
) -> UserOut:
    user = await service.update_user(session, user_id, body)
    await session.commit()
    return UserOut.model_validate(user)


@router.delete(
    "/{user_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a user [Admin]"
)
async def delete_user(user_id: UUID, caller: AdminUser, session: SessionDep) -> Response:
    if user_id == caller.id:
        raise ApiError(409, "you cannot delete your own account", code="conflict")
    await service.delete_user(session, user_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{user_id}/role", summary="Change a user's role [Admin]")
async def change_role(
    user_id: UUID, caller: AdminUser, session: SessionDep, body: RoleChange
) -> UserOut:
    if user_id == caller.id and body.role is not Role.ADMIN:
        raise ApiError(409, "you cannot take the admin role from yourself", code="conflict")
    user = await service.change_role(session, user_id, body.role)
    await session.commit()
    return UserOut.model_validate(user)


@router.patch("/{user_id}/availability", summary="Set availability [Auth: yourself, or admin]")
async def change_availability(
    user_id: UUID, caller: CurrentUser, session: SessionDep, body: AvailabilityChange
) -> UserOut:
    if user_id != caller.id and caller.role is not Role.ADMIN:
        raise ApiError(403, "you can only change your own availability", code="forbidden")
    user = await users_repo.update_availability(session, user_id, body.availability)
    if user is None:
        raise NotFound("no such user")
    await session.commit()
    return UserOut.model_validate(user)
