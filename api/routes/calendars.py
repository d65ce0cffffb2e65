"""`/calendars`: business hours that SLA policies count their targets in."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime

from api.deps import AdminUser, CurrentUser, SessionDep
from api.paths import API_PREFIX
from api.schemas.calendars import CalendarCreate, CalendarOut, CalendarUpdate, DeadlinePreview
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Duration, Limit, Page
from api.services import calendars as service
from domain.errors import NotFound
from persistence.repositories import calendars as calendars_repo

router = APIRouter(
    prefix=f"{API_PREFIX}/calendars", tags=["calendars"], responses=PROBLEM_RESPONSES
)


@router.get("", summary="List calendars [Auth]")
async def list_calendars(
    _: CurrentUser,
    session: SessionDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[CalendarOut]:
    page = await calendars_repo.list_calendars(session, limit=limit, cursor=cursor)
    items = [CalendarOut.model_validate(c) for c in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a calendar [Admin]")
async def create_calendar(_: AdminUser, session: SessionDep, body: CalendarCreate) -> CalendarOut:
    calendar = await service.create_calendar(session, body)
    await session.commit()
    return CalendarOut.model_validate(calendar)


@router.get("/{calendar_id}", summary="A calendar [Auth]")
async def get_calendar(calendar_id: UUID, _: CurrentUser, session: SessionDep) -> CalendarOut:
    calendar = await calendars_repo.get(session, calendar_id)
    if calendar is None:
        raise NotFound("no such calendar")
    return CalendarOut.model_validate(calendar)


@router.patch(
    "/{calendar_id}",
    summary="Change a calendar; tickets opened from now on use the new hours [Admin]",
)
async def update_calendar(
    calendar_id: UUID, _: AdminUser, session: SessionDep, body: CalendarUpdate
) -> CalendarOut:
    calendar = await service.update_calendar(session, calendar_id, body)
    await session.commit()
    return CalendarOut.model_validate(calendar)


@router.delete(
    "/{calendar_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a calendar no SLA policy uses [Admin]",
)
async def delete_calendar(calendar_id: UUID, _: AdminUser, session: SessionDep) -> Response:
    if not await calendars_repo.delete_calendar(session, calendar_id):
        raise NotFound("no such calendar")
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{calendar_id}/preview",
    summary="When a target started at `start` would fall due on this calendar [Auth]",
)
async def preview_deadline(
    calendar_id: UUID,
    _: CurrentUser,
    session: SessionDep,
    start: Annotated[AwareDatetime, Query(description="RFC 3339, with its UTC offset")],
    duration: Annotated[Duration, Query(description="business time (ISO 8601)", examples=["PT8H"])],
) -> DeadlinePreview:
    return await service.preview(session, calendar_id, start, duration)
