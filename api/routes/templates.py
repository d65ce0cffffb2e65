"""`/automation/templates`: canned replies for agents, filled in for a ticket on request."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import AgentUser, SessionDep, SettingsDep, TemporalDep
from api.paths import API_PREFIX
from api.schemas.common import DEFAULT_LIMIT, PROBLEM_RESPONSES, Limit, Page
from api.schemas.templates import (
    Category,
    PlaceholderOut,
    TemplateCreate,
    TemplateOut,
    TemplateRender,
    TemplateRendered,
    TemplateUpdate,
)
from api.services import templates as service
from domain.enums import Locale
from domain.templates import PLACEHOLDERS
from persistence.repositories import templates as templates_repo

router = APIRouter(
    prefix=f"{API_PREFIX}/automation/templates",
    tags=["automation"],
    responses=PROBLEM_RESPONSES,
)


@router.get("", summary="List response templates by name [Agent]")
async def list_templates(
    _: AgentUser,
    session: SessionDep,
    locale: Locale | None = None,
    category: Annotated[Category | None, Query()] = None,
    limit: Annotated[Limit, Query()] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[TemplateOut]:
    page = await templates_repo.list_templates(
        session, locale=locale, category=category, limit=limit, cursor=cursor
    )
    items = [TemplateOut.model_validate(t) for t in page.items]
    return Page(items=items, next_cursor=page.next_cursor)


@router.get("/placeholders", summary="Every placeholder a template may use [Agent]")
async def list_placeholders(_: AgentUser) -> list[PlaceholderOut]:
    return [PlaceholderOut.model_validate(p) for p in PLACEHOLDERS.values()]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a template [Agent]")
async def create_template(
    agent: AgentUser, session: SessionDep, body: TemplateCreate
) -> TemplateOut:
    row = await service.create_template(session, body, agent)
    await session.commit()
    return TemplateOut.model_validate(row)


@router.get("/{template_id}", summary="A response template [Agent]")
async def get_template(template_id: UUID, _: AgentUser, session: SessionDep) -> TemplateOut:
    return TemplateOut.model_validate(await service.get_template(session, template_id))


@router.put(
    "/{template_id}",
    summary="Change a template; absent fields stay as they are [its author or an Admin]",
)
async def update_template(
    template_id: UUID, caller: AgentUser, session: SessionDep, body: TemplateUpdate
) -> TemplateOut:
    row = await service.update_template(session, template_id, body, caller)
    await session.commit()
    return TemplateOut.model_validate(row)


@router.delete(
    "/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a template [its author or an Admin]",
)
async def delete_template(template_id: UUID, caller: AgentUser, session: SessionDep) -> Response:
    await service.delete_template(session, template_id, caller)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{template_id}/render",
    summary="Fill a template in for a ticket you can see [Agent]",
    description="Nothing is sent or stored: the text is for the agent to review and post.",
)
async def render_template(
    template_id: UUID,
    caller: AgentUser,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: TemplateRender,
) -> TemplateRendered:
    rendered = await service.render_for_ticket(
        session, temporal, settings, caller, template_id, body.ticket
    )
    return TemplateRendered(subject=rendered.subject, body=rendered.body)
