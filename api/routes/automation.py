"""`/automation`: rules (admins) and their dry run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import AdminUser, BroadcasterDep, SessionDep
from api.paths import API_PREFIX
from api.schemas.automation import (
    AutomationTest,
    AutomationTestOut,
    RuleCreate,
    RuleOut,
    RuleUpdate,
)
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.services import automation as service
from domain.broadcasts import Broadcast
from domain.errors import NotFound
from domain.rules import Trigger
from persistence.models import RuleTrigger
from persistence.repositories import automation_rules as rules_repo

router = APIRouter(
    prefix=f"{API_PREFIX}/automation", tags=["automation"], responses=PROBLEM_RESPONSES
)


@router.get("/rules", summary="Automation rules in the order they run [Admin]")
async def list_rules(
    _: AdminUser,
    session: SessionDep,
    trigger: Trigger | None = None,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[RuleOut]:
    only = RuleTrigger(trigger.value) if trigger is not None else None
    page = await rules_repo.list_rules(session, trigger=only, limit=limit, cursor=cursor)
    return Page(items=[RuleOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/rules", status_code=status.HTTP_201_CREATED, summary="Create a rule [Admin]")
async def create_rule(
    admin: AdminUser, session: SessionDep, broadcaster: BroadcasterDep, body: RuleCreate
) -> RuleOut:
    row = await service.create_rule(session, body, admin.id)
    await session.commit()
    await broadcaster.announce(Broadcast.RULES)
    return RuleOut.model_validate(row)


@router.get("/rules/{rule_id}", summary="A rule [Admin]")
async def get_rule(rule_id: UUID, _: AdminUser, session: SessionDep) -> RuleOut:
    row = await rules_repo.get(session, rule_id)
    if row is None:
        raise NotFound("no such automation rule")
    return RuleOut.model_validate(row)


@router.put("/rules/{rule_id}", summary="Change a rule; absent fields stay as they are [Admin]")
async def update_rule(
    rule_id: UUID, _: AdminUser, session: SessionDep, broadcaster: BroadcasterDep, body: RuleUpdate
) -> RuleOut:
    row = await service.update_rule(session, rule_id, body)
    await session.commit()
    await broadcaster.announce(Broadcast.RULES)
    return RuleOut.model_validate(row)


@router.delete(
    "/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a rule [Admin]"
)
async def delete_rule(
    rule_id: UUID, _: AdminUser, session: SessionDep, broadcaster: BroadcasterDep
) -> Response:
    if not await rules_repo.delete_rule(session, rule_id):
        raise NotFound("no such automation rule")
    await session.commit()
    await broadcaster.announce(Broadcast.RULES)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/rules/{rule_id}/toggle", summary="Enable a disabled rule, or disable it [Admin]")
async def toggle_rule(
    rule_id: UUID, _: AdminUser, session: SessionDep, broadcaster: BroadcasterDep
) -> RuleOut:
    row = await service.toggle_rule(session, rule_id)
    await session.commit()
    await broadcaster.announce(Broadcast.RULES)
    return RuleOut.model_validate(row)


@router.post(
    "/test",
    summary="Dry run: which rules match a ticket, why, and what they would do [Admin]",
    description=(
        "`ticket` is a ticket's number or id, or a draft ticket object. Nothing is changed. "
        "Time rules that do not match now say when they would (`next_match_at`)."
    ),
)
async def dry_run(_: AdminUser, session: SessionDep, body: AutomationTest) -> AutomationTestOut:
    return await service.dry_run(session, body, datetime.now(UTC))
