"""`/inbound/held-emails`: inbound e-mail whose sender nothing vouched for, for admins to judge."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import AdminUser, FilesDep, SessionDep, SettingsDep, TemporalDep
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.held_emails import HeldEmailOut
from api.services.inbound import held as service
from domain.errors import NotFound
from persistence.models import HeldEmailStatus
from persistence.repositories import held_emails as held_repo

router = APIRouter(
    prefix=f"{API_PREFIX}/inbound/held-emails", tags=["webhooks"], responses=PROBLEM_RESPONSES
)


@router.get("", summary="Inbound e-mail held for want of a sender check, newest first [Admin]")
async def list_held(
    _: AdminUser,
    session: SessionDep,
    status: Annotated[
        HeldEmailStatus | None, Query(description="`held` (the default), `released`, `discarded`")
    ] = HeldEmailStatus.HELD,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[HeldEmailOut]:
    page = await held_repo.list_held(session, status, limit=limit, cursor=cursor)
    return Page(
        items=[HeldEmailOut.from_row(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.get("/{held_id}", summary="One held e-mail [Admin]")
async def get_held(held_id: UUID, _: AdminUser, session: SessionDep) -> HeldEmailOut:
    row = await held_repo.get(session, held_id)
    if row is None:
        raise NotFound(f"no held e-mail {held_id}")
    return HeldEmailOut.from_row(row)


@router.post(
    "/{held_id}/release",
    summary="Land it as its sender's, as if their domain had vouched for it [Admin]",
    description=(
        "The e-mail becomes what an authenticated one would: a reply on the ticket it "
        "answers, or a new ticket, in the name of its `From:` sender. `409` once released "
        "or discarded."
    ),
)
async def release(
    held_id: UUID,
    admin: AdminUser,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    files: FilesDep,
) -> HeldEmailOut:
    row = await service.release(session, temporal, settings, files, held_id, admin)
    return HeldEmailOut.from_row(row)


@router.post(
    "/{held_id}/discard",
    summary="Throw it away; the record stays, its attachments go [Admin]",
)
async def discard(
    held_id: UUID, admin: AdminUser, session: SessionDep, files: FilesDep
) -> HeldEmailOut:
    return HeldEmailOut.from_row(await service.discard(session, files, held_id, admin))
