"""Response templates: checking and storing them, filling them in for a ticket, and the
defaults every helpdesk starts with."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.errors import ApiError
from api.schemas.templates import TemplateCreate, TemplateUpdate
from api.services import tickets as tickets_service
from domain.enums import Locale, Role
from domain.errors import Conflict, Forbidden, NotFound
from domain.templates import (
    AVAILABLE_VARIABLES,
    Contact,
    Rendered,
    TemplateError,
    TicketLinks,
    check_template,
    placeholder_values,
    render_template,
)
from domain.views import TicketView
from persistence.models import ResponseTemplate, User
from persistence.outbox import Links
from persistence.repositories import departments as departments_repo
from persistence.repositories import templates as templates_repo
from persistence.repositories import users as users_repo
from persistence.repositories.templates import TemplateFields
from ticketflow.settings import Settings

# -- errors ----------------------------------------------------------------------------------


def invalid_template(error: TemplateError, loc: tuple[str, ...] = ("body", "body")) -> ApiError:
    """A 422 naming the line at fault and every placeholder a template may use."""
    item: dict[str, Any] = {"loc": list(loc), "msg": error.detail, "type": error.code}
    extra: dict[str, Any] = {"available_variables": AVAILABLE_VARIABLES, "errors": [item]}
    if error.line is not None:
        item["ctx"] = {"line": str(error.line)}
        extra["line"] = error.line
    return ApiError(422, error.detail, code=error.code, extra=extra)


def _placeholders_of(body: str) -> list[str]:
    try:
        return check_template(body)
    except TemplateError as error:
        raise invalid_template(error) from error


# -- storing ---------------------------------------------------------------------------------


async def get_template(session: AsyncSession, template_id: UUID) -> ResponseTemplate:
    """The template, or 404."""
    row = await templates_repo.get(session, template_id)
    if row is None:
        raise NotFound("no such response template")
    return row


async def _check_name_free(
    session: AsyncSession, name: str, locale: Locale, template_id: UUID | None = None
) -> None:
    # Agents pick templates by name, and the seed finds its own by name and language.
    existing = await templates_repo.find(session, name, locale)
    if existing is not None and existing.id != template_id:
        raise Conflict(f"a {locale.value} response template named {name!r} already exists")


async def _editable(session: AsyncSession, template_id: UUID, caller: User) -> ResponseTemplate:
    row = await get_template(session, template_id)
    if caller.role is not Role.ADMIN and row.created_by != caller.id:
        raise Forbidden("only the template's author or an admin can change it")
    return row


def template_fields(name: str, category: str | None, locale: Locale, body: str) -> TemplateFields:
    variables = _placeholders_of(body)
    return TemplateFields(
        name=name, category=category, locale=locale, body=body, variables=variables
    )


async def create_template(
    session: AsyncSession, body: TemplateCreate, author: User
) -> ResponseTemplate:
    """Check and store a template; its language defaults to the author's."""
    fields = template_fields(body.name, body.category, body.locale or author.locale, body.body)
    await _check_name_free(session, fields.name, fields.locale)
    return await templates_repo.create(session, fields, author.id)


async def update_template(
    session: AsyncSession, template_id: UUID, body: TemplateUpdate, caller: User
) -> ResponseTemplate:
    """Change the fields given (author or admin); the merged template is checked again."""
    row = await _editable(session, template_id, caller)
    given = body.model_dump(exclude_unset=True)
    # null clears the category; for any other field it means "leave as is".
    given = {k: v for k, v in given.items() if v is not None or k == "category"}
    current = {"name": row.name, "category": row.category, "locale": row.locale, "body": row.body}
    fields = template_fields(**{**current, **given})
    await _check_name_free(session, fields.name, fields.locale, template_id)
    updated = await templates_repo.replace(session, template_id, fields)
    if updated is None:
        raise NotFound("no such response template")
    return updated


async def delete_template(session: AsyncSession, template_id: UUID, caller: User) -> None:
    """Delete a template (its author or an admin)."""
    await _editable(session, template_id, caller)
    if not await templates_repo.delete_template(session, template_id):
        raise NotFound("no such response template")


# -- rendering -------------------------------------------------------------------------------


def ticket_links(settings: Settings, ticket: TicketView) -> TicketLinks:
    """Where the ticket, and its requester's survey page, live under the public URL."""
    links = Links(settings.public_url, settings.link_keys)
    return TicketLinks(
        url=links.ticket(ticket.number), survey_url=links.survey(ticket.number, ticket.requester_id)
    )


async def _contact(session: AsyncSession, user_id: UUID | None) -> Contact | None:
    user = await users_repo.get(session, user_id) if user_id is not None else None
    return Contact(name=user.name, email=user.email) if user is not None else None


async def _values(
    session: AsyncSession, settings: Settings, ticket: TicketView, locale: Locale
) -> dict[str, dict[str, str]]:
    department = await departments_repo.get(session, ticket.department_id)
    return placeholder_values(
        ticket,
        locale=locale,
        links=ticket_links(settings, ticket),
        requester=await _contact(session, ticket.requester_id),
        agent=await _contact(session, ticket.assignee_id),
        department=department.name if department is not None else None,
    )


async def render_for_ticket(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    caller: User,
    template_id: UUID,
    ticket: int | UUID,
) -> Rendered:
    """The template filled in for a ticket the caller may see (404 for any other)."""
    row = await get_template(session, template_id)
    found = await tickets_service.find_ticket(session, temporal, caller, str(ticket))
    values = await _values(session, settings, found.view, row.locale)
    try:
        return render_template(row.body, values)
    except TemplateError as error:
        raise invalid_template(error, loc=("template", "body")) from error
