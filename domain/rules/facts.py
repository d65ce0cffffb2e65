"""What a rule's conditions are evaluated on: a ticket's fields, the change, and the time.

Time fields (`hours_since_created`, `hours_since_activity`, `hours_in_status`,
`sla_minutes_remaining`) are not stored: each is a straight line through one timestamp
(its anchor), so its value at any instant, and the instant it reaches any value, are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.enums import Impact, Priority, Role, Source, TicketStatus, Urgency
from domain.rules.fields import FIELDS, TIME_FIELDS
from domain.ticket import CommentRecord, HistoryEntry, TicketState

# History kinds that are the ticket's own machinery rather than someone working on it: an
# SLA warning or a rule firing must not count as activity, or "no activity for 24 h" could
# never come true on a ticket whose SLA keeps warning.
NOT_ACTIVITY_PREFIXES = ("sla.", "automation.")


@dataclass(frozen=True)
class TimeField:
    """A field that is a line through `anchor`: `direction` +1 grows with time, -1 shrinks."""

    anchor: str
    direction: int
    unit: timedelta

    def anchor_of(self, facts: TicketFacts) -> datetime | None:
        value: datetime | None = getattr(facts, self.anchor)
        return value

    def value_at(self, facts: TicketFacts, now: datetime) -> float | None:
        anchor = self.anchor_of(facts)
        if anchor is None:
            return None
        return self.direction * ((now - anchor) / self.unit)

    def crossing(self, facts: TicketFacts, threshold: float) -> datetime | None:
        """The instant the value equals `threshold` (rounded to the microsecond)."""
        anchor = self.anchor_of(facts)
        if anchor is None:
            return None
        return anchor + self.unit * (self.direction * threshold)


TIME_SPECS: Mapping[str, TimeField] = {
    "hours_since_created": TimeField("created_at", 1, timedelta(hours=1)),
    "hours_since_activity": TimeField("last_activity_at", 1, timedelta(hours=1)),
    "hours_in_status": TimeField("status_since", 1, timedelta(hours=1)),
    "sla_minutes_remaining": TimeField("sla_deadline", -1, timedelta(minutes=1)),
}


def plain(value: Any) -> Any:
    """A value as JSON spells it: enums by value, ids as text, tuples as lists."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


# Facts held as they are; the others are derived (requester_vip, the time fields).
_DERIVED = frozenset({"requester_vip", *TIME_FIELDS})
_STORED = tuple(name for name in FIELDS if name not in _DERIVED)


class TicketFacts(BaseModel):
    """A ticket as rules see it at one moment; build it with `facts_from_state` in a workflow.

    `previous` holds the values fields had before the change being handled (for `changed` and
    `changed_to`); a field absent from it did not change. The `comment_*` facts are set only
    while a comment is being added.
    """

    model_config = ConfigDict(frozen=True)

    title: str = ""
    description: str = ""
    status: TicketStatus = TicketStatus.NEW
    priority: Priority = Priority.P3
    urgency: Urgency = Urgency.NORMAL
    impact: Impact = Impact.MEDIUM
    category: str = "general"
    subcategory: str | None = None
    source: Source = Source.WEB
    tags: tuple[str, ...] = ()
    assignee_id: UUID | None = None
    department_id: UUID | None = None
    requester_id: UUID | None = None
    requester_role: Role = Role.USER
    comment_body: str | None = None
    comment_private: bool | None = None
    comment_by_requester: bool | None = None
    previous: dict[str, Any] = Field(default_factory=dict)
    created_at: AwareDatetime
    # Never None once validated: the validator below makes them created_at.
    last_activity_at: AwareDatetime | None = Field(None, description="defaults to created_at")
    status_since: AwareDatetime | None = Field(None, description="defaults to created_at")
    sla_deadline: AwareDatetime | None = Field(
        None, description="the nearest deadline among the running SLA clocks"
    )

    @model_validator(mode="before")
    @classmethod
    def _anchors_default_to_creation(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("created_at") is not None:
            data = dict(data)
            for name in ("last_activity_at", "status_since"):
                if data.get(name) is None:
                    data[name] = data["created_at"]
        return data

    @field_validator("previous")
    @classmethod
    def _plain_previous(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {name: plain(v) for name, v in value.items()}

    @property
    def requester_vip(self) -> bool:
        return self.requester_role is Role.VIP_USER

    def facts_at(self, now: datetime) -> dict[str, Any]:
        """Every field a condition may name, as plain values, with time fields at `now`."""
        values = {name: plain(getattr(self, name)) for name in _STORED}
        values["requester_vip"] = self.requester_vip
        for name, spec in TIME_SPECS.items():
            values[name] = spec.value_at(self, now)
        return values


# -- from a workflow's state -------------------------------------------------------------------

_STATE_FIELDS = (
    "title",
    "description",
    "status",
    "priority",
    "urgency",
    "impact",
    "category",
    "subcategory",
    "source",
    "tags",
    "assignee_id",
    "requester_id",
    "requester_role",
)


def _state_values(state: TicketState) -> dict[str, Any]:
    values = {name: getattr(state, name) for name in _STATE_FIELDS}
    values["tags"] = tuple(state.tags)
    values["department_id"] = state.department.id
    return values


def _previous(before: TicketState | None, after: dict[str, Any]) -> dict[str, Any]:
    if before is None:
        return {}
    old = _state_values(before)
    return {name: old[name] for name, value in after.items() if old[name] != value}


def _last_activity(state: TicketState, history: Iterable[HistoryEntry]) -> datetime:
    times = [e.at for e in history if not e.kind.startswith(NOT_ACTIVITY_PREFIXES)]
    return max(times, default=state.updated_at)


def _status_since(state: TicketState, history: Iterable[HistoryEntry]) -> datetime:
    times = [e.at for e in history if "status" in e.changes]
    return max(times, default=state.created_at)


def _sla_deadline(state: TicketState, now: datetime) -> datetime | None:
    # now + remaining rather than Clock.deadline(): it stays exact once a clock is breached.
    deadlines = [
        now + clock.remaining(now)
        for clock in state.current_clocks()
        if clock.running and not clock.paused
    ]
    return min(deadlines, default=None)


def facts_from_state(
    state: TicketState,
    now: datetime,
    *,
    history: Iterable[HistoryEntry] = (),
    before: TicketState | None = None,
    comment: CommentRecord | None = None,
) -> TicketFacts:
    """The facts of a workflow's ticket at `now`.

    `history` (the workflow's timeline) dates the last activity and the last status change;
    `before` (the state before the change being handled) fills `previous`; `comment` is the
    comment being added, for `comment_added` rules.
    """
    history = list(history)
    values = _state_values(state)
    comment_facts: dict[str, Any] = {}
    if comment is not None:
        comment_facts = {
            "comment_body": comment.body,
            "comment_private": comment.private,
            "comment_by_requester": comment.author_id == state.requester_id,
        }
    return TicketFacts(
        **values,
        **comment_facts,
        previous=_previous(before, values),
        created_at=state.created_at,
        last_activity_at=_last_activity(state, history),
        status_since=_status_since(state, history),
        sla_deadline=_sla_deadline(state, now),
    )


__all__ = ["TIME_SPECS", "TicketFacts", "TimeField", "facts_from_state", "plain"]
