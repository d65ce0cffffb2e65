"""`/notifications`: the caller's own in-app inbox."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import CurrentUser, SessionDep
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.notifications import NotificationOut
from domain.errors import NotFound
from persistence.repositories import notifications as notifications_repo

router = APIRouter(
    prefix=f"{API_PREFIX}/notifications", tags=["notifications"], responses=PROBLEM_RESPONSES
)


@router.get("", summary="Your notifications, newest first [Auth]")
async def list_notifications(
    caller: CurrentUser,
    session: SessionDep,
    unread: bool = False,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[NotificationOut]:
    page = await notifications_repo.list_for_user(
        session, caller.id, unread_only=unread, limit=limit, cursor=cursor
    )
    items = [NotificationOut.model_validate(n) for n in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.patch("/{notification_id}/read", summary="Mark a notification read [Auth]")
async def mark_read(
    notification_id: UUID, caller: CurrentUser, session: SessionDep
) -> NotificationOut:
    found = await notifications_repo.mark_read(session, caller.id, notification_id)
    if found is None:
        raise NotFound("no such notification")
    await session.commit()
    return NotificationOut.model_validate(found)


@router.delete(
    "/{notification_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a notification [Auth]",
)
async def delete_notification(
    notification_id: UUID, caller: CurrentUser, session: SessionDep
) -> Response:
    if not await notifications_repo.delete_notification(session, caller.id, notification_id):
        raise NotFound("no such notification")
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
