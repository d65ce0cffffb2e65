"""`/tickets/{ticket}/deliveries`: the record of a ticket's notifications on every channel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AgentUser, SessionDep, TemporalDep
from api.paths import API_PREFIX
from api.routes.tickets import TicketPath
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.deliveries import DeliveryOut
from api.services import deliveries as service

router = APIRouter(prefix=f"{API_PREFIX}/tickets", tags=["tickets"], responses=PROBLEM_RESPONSES)


@router.get(
    "/{ticket}/deliveries",
    summary="What was sent about a ticket, on every channel, and how it went [Agent]",
)
async def list_deliveries(
    ticket: TicketPath,
    caller: AgentUser,
    session: SessionDep,
    temporal: TemporalDep,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[DeliveryOut]:
    return await service.ticket_deliveries(
        session, temporal, caller, ticket, limit=limit, cursor=cursor
    )
