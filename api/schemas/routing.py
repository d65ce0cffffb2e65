"""Routing as the API shows and accepts it: capacity, skills, workload, bulk ticket changes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AfterValidator, BaseModel, Field, model_validator

from api.schemas.common import ApiModel
from api.schemas.users import Skill, UserOut
from domain.enums import TicketStatus
from domain.views import TicketView

MAX_SKILLS = 50
MAX_BULK_USERS = 200
MAX_BULK_TICKETS = 100
MaxLoad = Annotated[int, Field(ge=1, le=10_000, description="the most open tickets to route")]
TicketRef = Annotated[str, Field(min_length=1, max_length=64, description="number or UUID")]
Category = Annotated[str, Field(min_length=1, max_length=100)]


def _unique(values: list[Any]) -> list[Any]:
    """The list without repeats, in first-seen order (a batch names each item once)."""
    return list(dict.fromkeys(values))


class AgentOut(UserOut):
    """A user with their routing numbers."""

    max_load: int
    last_assigned_at: datetime | None


class CapacityChange(ApiModel):
    max_load: MaxLoad


class SkillsMode(StrEnum):
    ADD = "add"
    REPLACE = "replace"


class BulkSkills(ApiModel):
    user_ids: Annotated[list[UUID], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_BULK_USERS
    )
    skills: list[Skill] = Field(max_length=MAX_SKILLS)
    mode: SkillsMode = Field(
        SkillsMode.ADD,
        description="`add` keeps each user's skills and adds these; `replace` sets exactly these",
    )


class Workload(BaseModel):
    user_id: UUID
    current_load: int = Field(
        description="open tickets assigned, counting automatic picks still on their way"
    )
    max_load: int
    open_tickets: int = Field(description="open tickets assigned, as the read model has them")
    by_status: dict[TicketStatus, int]
    by_priority: dict[str, int]


class BulkAssign(ApiModel):
    tickets: Annotated[list[TicketRef], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_BULK_TICKETS
    )
    assignee_id: UUID | None = Field(None, description="an active agent or admin")
    auto: bool = Field(
        False,
        description=(
            "give each ticket to the least-loaded online agent of its department who covers "
            "its category (never its current assignee)"
        ),
    )

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.assignee_id is None) == (not self.auto):
            raise ValueError("give exactly one of assignee_id or auto: true")
        return self


class BulkStatus(ApiModel):
    tickets: Annotated[list[TicketRef], AfterValidator(_unique)] = Field(
        min_length=1, max_length=MAX_BULK_TICKETS
    )
    status: TicketStatus
    note: Annotated[str, Field(max_length=65_536)] | None = Field(
        None, description="for `resolved`: the solution"
    )


class TicketResult(BaseModel):
    """What happened to one ticket of a batch: as the single-ticket endpoint would answer."""

    ticket: str = Field(description="the reference as given")
    ok: bool
    status: int = Field(description="the HTTP status the single-ticket call would have had")
    detail: str | None = None
    allowed: list[str] | None = Field(None, description="for 409s: the moves allowed")
    ticket_view: TicketView | None = Field(None, description="the ticket after the change")


class BulkResult(BaseModel):
    results: list[TicketResult]
    succeeded: int
    failed: int

    @classmethod
    def of(cls, results: list[TicketResult]) -> BulkResult:
        succeeded = sum(r.ok for r in results)
        return cls(results=results, succeeded=succeeded, failed=len(results) - succeeded)
