"""Response templates: canned replies, listed by name."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.enums import Locale
from persistence.models import ResponseTemplate
from persistence.pagination import DEFAULT_LIMIT, Keyset, Page, paginate

BY_NAME = Keyset((ResponseTemplate.name, ResponseTemplate.id), descending=False)


class TemplateFields(BaseModel):
    """A template as stored; `variables` are the placeholders its body uses."""

    name: str
    category: str | None = None
    locale: Locale
    body: str
    variables: list[str]


async def get(session: AsyncSession, template_id: UUID) -> ResponseTemplate | None:
    return await session.get(ResponseTemplate, template_id)


async def find(session: AsyncSession, name: str, locale: Locale) -> ResponseTemplate | None:
    """The template of this name in this language (names are unique per language)."""
    statement = select(ResponseTemplate).where(
        ResponseTemplate.name == name, ResponseTemplate.locale == locale
    )
    return await session.scalar(statement.order_by(*BY_NAME.order_by()).limit(1))


async def list_templates(
    session: AsyncSession,
    *,
    locale: Locale | None = None,
    category: str | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[ResponseTemplate]:
    """Templates by name, optionally of one language and one category."""
    statement = select(ResponseTemplate)
    if locale is not None:
        statement = statement.where(ResponseTemplate.locale == locale)
    if category is not None:
        statement = statement.where(ResponseTemplate.category == category)
    return await paginate(session, statement, BY_NAME, limit=limit, cursor=cursor)


async def create(
    session: AsyncSession, fields: TemplateFields, created_by: UUID
) -> ResponseTemplate:
    row = ResponseTemplate(**fields.model_dump(), created_by=created_by)
    session.add(row)
    await session.flush()
    return row


async def replace(
    session: AsyncSession, template_id: UUID, fields: TemplateFields
) -> ResponseTemplate | None:
    """Overwrite a template (the caller merged and checked it)."""
    statement = (
        update(ResponseTemplate)
        .where(ResponseTemplate.id == template_id)
        .values(**fields.model_dump())
        .returning(ResponseTemplate)
    )
    return await session.scalar(statement, execution_options={"populate_existing": True})


async def delete_template(session: AsyncSession, template_id: UUID) -> bool:
    statement = delete(ResponseTemplate).where(ResponseTemplate.id == template_id)
    return await session.scalar(statement.returning(ResponseTemplate.id)) is not None
