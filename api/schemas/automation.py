"""Automation rules as administrators write them, and the dry run's question and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import ApiModel
from domain.enums import Impact, Priority, Role, Source, TicketStatus, Urgency
from domain.rules import Action, AllOf, Condition, Outcome, Trigger
from domain.rules.rule import MAX_ACTIONS, check_conditions

RuleName = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=4000)]
Position = Annotated[int, Field(ge=0, le=1_000_000, description="lower positions run first")]

CONDITIONS_DOC = (
    'A tree: {"all": [...]}, {"any": [...]} or a test {"field", "operator", "value"}. '
    "Fields: title, description, status, priority, urgency, impact, category, subcategory, "
    "source, tags, assignee_id, department_id, requester_id, requester_role, requester_vip, "
    "comment_body / comment_private / comment_by_requester (comment_added rules), and the "
    "time fields hours_since_created, hours_since_activity, hours_in_status, "
    "sla_minutes_remaining (numbers, fractions allowed). Operators: equals, not_equals, "
    "contains, not_contains, greater_than, less_than, in, not_in, changed, changed_to, "
    "is_empty. Text compares case-insensitively. A time threshold counts as passed from the "
    "instant it is reached (hours_since_activity greater_than 24 is true from 24 h on)."
)
ACTIONS_DOC = (
    "What the rule does, in order: set_priority {priority} (alias assign_priority), "
    "assign_agent {agent_id}, assign_department {department_id}, add_tag {tag}, "
    "remove_tag {tag}, set_status {status}, send_notification {target: assignee | agent | "
    "requester | manager | <user id>, message}, add_comment {body, private (default true)}, "
    "create_incident, auto_resolve {solution}, escalate {level}, close {for_inactivity} "
    "(alias close_automatically)."
)


class RuleCreate(ApiModel):
    name: RuleName
    description: Description | None = None
    enabled: bool = True
    position: Position = 0
    trigger: Trigger
    conditions: Condition = Field(default_factory=lambda: AllOf(all=[]), description=CONDITIONS_DOC)
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS, description=ACTIONS_DOC)

    @model_validator(mode="after")
    def _conditions_fit_trigger(self) -> RuleCreate:
        check_conditions(self.trigger, self.conditions)
        return self


class RuleUpdate(ApiModel):
    """Absent fields stay as they are; the rule as a whole is checked again."""

    name: RuleName | None = None
    description: Description | None = None
    enabled: bool | None = None
    position: Position | None = None
    trigger: Trigger | None = None
    conditions: Condition | None = Field(None, description=CONDITIONS_DOC)
    actions: list[Action] | None = Field(
        None, min_length=1, max_length=MAX_ACTIONS, description=ACTIONS_DOC
    )


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    description: str | None
    enabled: bool
    position: int
    trigger: Trigger
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    created_by: UUID
    created_at: datetime
    updated_at: datetime


# -- dry run -----------------------------------------------------------------------------------

Hours = Annotated[float, Field(ge=0, le=1_000_000)]


class DraftComment(ApiModel):
    body: Annotated[str, Field(max_length=65_536)] = ""
    private: bool = False
    by_requester: bool = True


class DraftTicket(ApiModel):
    """A ticket that does not exist, described by what rules look at; missing facts take
    the defaults a new web ticket would have. Time is given as the time fields themselves."""

    title: Annotated[str, Field(max_length=500)] = ""
    description: Annotated[str, Field(max_length=65_536)] = ""
    status: TicketStatus = TicketStatus.NEW
    priority: Priority | None = Field(None, description="default: from urgency × impact")
    urgency: Urgency = Urgency.NORMAL
    impact: Impact = Impact.MEDIUM
    category: str = "general"
    subcategory: str | None = None
    source: Source = Source.WEB
    tags: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=100)
    assignee_id: UUID | None = None
    department_id: UUID | None = None
    requester_id: UUID | None = None
    requester_role: Role = Role.USER
    hours_since_created: Hours = 0
    hours_since_activity: Hours | None = Field(None, description="default: hours_since_created")
    hours_in_status: Hours | None = Field(None, description="default: hours_since_created")
    sla_minutes_remaining: float | None = Field(
        None, ge=-1_000_000, le=1_000_000, description="null: no SLA clock running"
    )
    comment: DraftComment | None = Field(None, description="the comment of a comment_added test")
    previous: dict[str, Any] = Field(
        default_factory=dict, description="values before the change, for changed / changed_to"
    )


TicketNumber = Annotated[int, Field(ge=1, le=2**63 - 1)]


class AutomationTest(ApiModel):
    ticket: TicketNumber | UUID | DraftTicket = Field(
        description="a ticket's number or id, or a draft ticket object"
    )
    trigger: Trigger | None = Field(None, description="only the rules of this trigger")
    rule_ids: list[UUID] | None = Field(
        None,
        max_length=200,
        description="only these rules, tested even if disabled (default: every enabled rule)",
    )


class TicketRef(BaseModel):
    id: UUID
    number: int


class RuleTestResult(BaseModel):
    rule_id: UUID
    name: str
    trigger: Trigger
    enabled: bool
    position: int
    matched: bool
    explanation: Outcome
    summary: list[str] = Field(description="the explanation as readable lines")
    actions: list[Action] = Field(description="what the rule would do (nothing if no match)")
    changes: dict[str, list[Any]] = Field(description="ticket fields it would change")
    next_match_at: datetime | None = Field(
        None, description="time rules not matching now: when they would, if nothing changes"
    )


class AutomationTestOut(BaseModel):
    """What would happen; nothing was changed."""

    at: datetime
    ticket: TicketRef | None = Field(None, description="the existing ticket tested, if any")
    facts: dict[str, Any] = Field(description="the values the rules were evaluated on")
    matched_rule_ids: list[UUID]
    results: list[RuleTestResult]
