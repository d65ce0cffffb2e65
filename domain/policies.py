"""SLA policies as an administrator writes them, and the choice of the one that applies.

Policies are tried in `position` order; the first enabled one whose conditions all match the
ticket applies (the Zendesk/JSM habit). A condition is a list of accepted values for one fact of
the ticket; a fact without a condition accepts anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.calendars import CalendarTerms
from domain.enums import Priority, Role, TicketStatus
from domain.sla import (
    DEFAULT_WARN_AT,
    EscalationStep,
    EscalationTarget,
    Fraction,
    MetricTargets,
    PolicyTerms,
)


class PolicyConditions(BaseModel):
    """Which tickets a policy is for; each present list must contain the ticket's value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    department_id: Annotated[list[UUID], Field(min_length=1)] | None = None
    category: Annotated[list[str], Field(min_length=1)] | None = None
    priority: Annotated[list[Priority], Field(min_length=1)] | None = None
    requester_role: Annotated[list[Role], Field(min_length=1)] | None = None

    def matches(self, facts: TicketFacts) -> bool:
        if self.department_id is not None and facts.department_id not in self.department_id:
            return False
        if self.category is not None:
            wanted = {c.casefold() for c in self.category}
            if facts.category.casefold() not in wanted:
                return False
        if self.priority is not None and facts.priority not in self.priority:
            return False
        return self.requester_role is None or facts.requester_role in self.requester_role


class TicketFacts(BaseModel):
    """What a policy's conditions may look at."""

    model_config = ConfigDict(frozen=True)

    department_id: UUID
    category: str
    priority: Priority
    requester_role: Role


class SlaPolicy(BaseModel):
    """A stored SLA policy, in domain terms."""

    model_config = ConfigDict(frozen=True)

    id: UUID | None = None
    name: str
    position: int = 0
    enabled: bool = True
    conditions: PolicyConditions = Field(default_factory=PolicyConditions)
    targets: dict[Priority, MetricTargets]
    calendar_id: UUID | None = None
    pause_statuses: frozenset[TicketStatus] = frozenset({TicketStatus.ON_HOLD})
    warn_at: tuple[Fraction, ...] = DEFAULT_WARN_AT
    escalation: tuple[EscalationStep, ...] = ()

    @field_validator("warn_at")
    @classmethod
    def _sorted_unique(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _closed_tickets_never_pause(self) -> SlaPolicy:
        if self.pause_statuses & {TicketStatus.CLOSED}:
            raise ValueError("a closed ticket has no running clock to pause")
        return self

    def terms(self, calendar: CalendarTerms | None = None) -> PolicyTerms:
        """What a ticket's workflow keeps of this policy (with its calendar, resolved)."""
        return PolicyTerms(
            policy_id=self.id,
            name=self.name,
            targets=dict(self.targets),
            warn_at=self.warn_at,
            pause_statuses=self.pause_statuses,
            calendar=calendar,
            escalation=self.escalation,
        )


def select_policy(policies: Iterable[SlaPolicy], facts: TicketFacts) -> SlaPolicy | None:
    """The first enabled policy by `position` whose conditions match; ties keep input order."""
    ordered: Sequence[SlaPolicy] = sorted(policies, key=lambda p: p.position)
    for policy in ordered:
        if policy.enabled and policy.conditions.matches(facts):
            return policy
    return None


__all__ = [
    "EscalationStep",
    "EscalationTarget",
    "PolicyConditions",
    "SlaPolicy",
    "TicketFacts",
    "select_policy",
]


class PolicySet(BaseModel):
    """Every enabled policy with its calendar resolved: what an open ticket re-selects from."""

    policies: list[SlaPolicy] = Field(default_factory=list)
    calendars: dict[UUID, CalendarTerms] = Field(default_factory=dict)

    def terms_for(self, facts: TicketFacts) -> PolicyTerms | None:
        policy = select_policy(self.policies, facts)
        if policy is None:
            return None
        calendar = self.calendars.get(policy.calendar_id) if policy.calendar_id else None
        return policy.terms(calendar)
