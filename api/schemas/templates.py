"""Response templates: canned replies agents fill in for a ticket."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.automation import TicketNumber
from api.schemas.common import ApiModel
from domain.enums import Locale
from domain.templates import MAX_TEMPLATE_BYTES

TemplateName = Annotated[str, Field(min_length=1, max_length=255)]
Category = Annotated[str, Field(min_length=1, max_length=100)]

BODY_DOC = (
    "Text with placeholders such as {{ ticket.number }} or {{ requester.name }} (the list: "
    "GET /automation/templates/placeholders). Also allowed: {% if %}…{% else %}…{% endif %}, "
    "comparisons, ~ to join text, and the filters default, upper, lower, title, capitalize, "
    "trim, truncate. A first line 'Subject: …' (or 'Asunto: …') becomes the subject. "
    f"At most {MAX_TEMPLATE_BYTES // 1024} KB."
)
TemplateBody = Annotated[
    str, Field(min_length=1, max_length=MAX_TEMPLATE_BYTES, description=BODY_DOC)
]


class TemplateCreate(ApiModel):
    name: TemplateName
    category: Category | None = None
    locale: Locale | None = Field(None, description="es or en; default: the author's language")
    body: TemplateBody


class TemplateUpdate(ApiModel):
    """Absent fields stay as they are; `null` clears the category."""

    name: TemplateName | None = None
    category: Category | None = None
    locale: Locale | None = None
    body: TemplateBody | None = None


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    category: str | None
    locale: Locale
    body: str
    variables: list[str] = Field(description="the placeholders the body uses")
    created_by: UUID
    created_at: datetime
    updated_at: datetime


class PlaceholderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str
    example: str


class TemplateRender(ApiModel):
    ticket: TicketNumber | UUID = Field(description="the ticket's number or id")


class TemplateRendered(BaseModel):
    subject: str | None = Field(description="from a leading 'Subject:' / 'Asunto:' line, if any")
    body: str
