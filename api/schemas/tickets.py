"""Tickets, comments and timelines as the API accepts and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import ApiModel
from domain.enums import Impact, Priority, Source, TicketStatus, Urgency
from domain.views import TicketView

Title = Annotated[str, Field(min_length=1, max_length=500)]
Body = Annotated[str, Field(min_length=1, max_length=65_536)]
Tag = Annotated[str, Field(min_length=1, max_length=64)]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Url = Annotated[str, Field(min_length=1, max_length=2048)]


class TicketCreate(ApiModel):
    title: Title
    description: Body
    department_id: UUID | None = Field(
        None, description="defaults to the first department (by name)"
    )
    category: Label = "general"
    subcategory: Label | None = None
    priority: Priority | None = Field(
        None, description="when absent, follows from urgency and impact (ITIL matrix)"
    )
    urgency: Urgency = Urgency.NORMAL
    impact: Impact = Impact.MEDIUM
    source: Source = Source.WEB
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=100)
    requester_id: UUID | None = Field(
        None, description="agents and admins may open a ticket on someone's behalf"
    )
    assignee_id: UUID | None = Field(None, description="agents and admins only")


class TicketEdit(ApiModel):
    """`PUT /tickets/{ticket}`: the fields to change; an absent field stays as it is.

    Status, priority and assignee have endpoints of their own. A requester may change only
    the title and description of their own open ticket.
    """

    title: Title | None = None
    description: Body | None = None
    category: Label | None = None
    subcategory: Label | None = Field(None, description="null clears it")
    tags: list[Tag] | None = Field(None, max_length=50, description="the whole new list")

    @model_validator(mode="after")
    def _something_to_change(self) -> TicketEdit:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        for name in ("title", "description", "category", "tags"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    ticket_id: UUID
    comment_id: UUID | None = None
    filename: str
    content_type: str | None = None
    size_bytes: int | None = None
    uploaded_by: UUID
    created_at: datetime


class AttachmentCreated(AttachmentOut):
    ticket: TicketView = Field(description="the ticket after the upload")


class TicketHit(TicketView):
    """A search result: the ticket, and how well it matched (higher is better)."""

    rank: float


class StatusChange(ApiModel):
    status: TicketStatus
    note: Annotated[str, Field(max_length=65_536)] | None = Field(
        None, description="for `resolved`: the solution"
    )


class AssignRequest(ApiModel):
    assignee_id: UUID | None = Field(description="an active agent or admin; null unassigns")


class MergeRequest(ApiModel):
    into: str = Field(
        min_length=1, max_length=64, description="the ticket that carries on: number or id"
    )


class PriorityChange(ApiModel):
    priority: Priority


class ResolveRequest(ApiModel):
    solution: Annotated[str, Field(max_length=65_536)] | None = None


class CommentCreate(ApiModel):
    body: Body
    private: bool = Field(False, description="an internal note, never shown to the requester")
    mentions: list[UUID] = Field(default_factory=list, max_length=50)
    attachments: list[Url] = Field(default_factory=list, max_length=20)


class RateRequest(ApiModel):
    score: int = Field(ge=1, le=10)
    feedback: Annotated[str, Field(max_length=10_000)] | None = None


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    ticket_id: UUID
    author_id: UUID
    body: str
    private: bool
    mentions: list[UUID]
    attachments: list[str]
    sentiment_score: float | None = None
    created_at: datetime


class CommentCreated(CommentOut):
    ticket: TicketView = Field(description="the ticket after the comment")
