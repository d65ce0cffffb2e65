"""What a rule does when it matches: `{"type": ..., <its parameters>}`.

Actions are data. The workflow carries them out (through `TicketOps` and notification
intents); here each action only says how it would change the facts the next rule sees
(`fact_changes`), mirroring the ticket's own rules so a chain of rules sees what will be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from domain.enums import Priority, TicketStatus
from domain.lifecycle import TRANSITIONS
from domain.rules.facts import TicketFacts
from domain.ticket import DepartmentTerms

Text = Annotated[str, Field(min_length=1, max_length=2_000)]
LongText = Annotated[str, Field(min_length=1, max_length=65_536)]
TagName = Annotated[str, Field(min_length=1, max_length=100)]

NAMED_TARGETS = ("assignee", "requester", "manager")
# The seed says "agent" for the ticket's agent: the same person as its assignee.
_TARGET_ALIASES = {"agent": "assignee"}


def _target(value: Any) -> Any:
    if isinstance(value, str) and not _looks_like_uuid(value):
        value = _TARGET_ALIASES.get(value, value)
        if value not in NAMED_TARGETS:
            allowed = ", ".join([*NAMED_TARGETS, "agent", "<user id>"])
            raise ValueError(f"unknown notification target {value!r}; allowed: {allowed}")
    return value


def _looks_like_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


Target = Annotated[Literal["assignee", "requester", "manager"] | UUID, BeforeValidator(_target)]


def _status_change(facts: TicketFacts, status: TicketStatus) -> dict[str, Any]:
    """The status move, if the ticket's lifecycle allows it (the workflow would refuse it)."""
    return {"status": status} if status in TRANSITIONS[facts.status] else {}


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        """How the ticket's facts look after this action; {} when it changes none of them."""
        return {}

    def describe(self) -> str:
        raise NotImplementedError


class SetPriority(_Action):
    type: Literal["set_priority"] = "set_priority"
    priority: Priority

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        return {} if facts.status is TicketStatus.CLOSED else {"priority": self.priority}

    def describe(self) -> str:
        return f"set priority to {self.priority.value}"


class AssignAgent(_Action):
    type: Literal["assign_agent"] = "assign_agent"
    agent_id: UUID

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        if facts.status is TicketStatus.CLOSED:
            return {}
        changes: dict[str, Any] = {"assignee_id": self.agent_id}
        if facts.status is TicketStatus.NEW:  # assigning a new ticket starts work on it
            changes["status"] = TicketStatus.IN_PROGRESS
        return changes

    def describe(self) -> str:
        return f"assign to agent {self.agent_id}"


class AssignDepartment(_Action):
    type: Literal["assign_department"] = "assign_department"
    department_id: UUID
    department: DepartmentTerms | None = Field(
        None,
        description="the department's terms, resolved when rules are loaded for the workflow",
    )

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        return {} if facts.status is TicketStatus.CLOSED else {"department_id": self.department_id}

    def describe(self) -> str:
        return f"move to department {self.department_id}"


class AddTag(_Action):
    type: Literal["add_tag"] = "add_tag"
    tag: TagName

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        return {} if self.tag in facts.tags else {"tags": (*facts.tags, self.tag)}

    def describe(self) -> str:
        return f"add tag {self.tag!r}"


class RemoveTag(_Action):
    type: Literal["remove_tag"] = "remove_tag"
    tag: TagName

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        if self.tag not in facts.tags:
            return {}
        return {"tags": tuple(t for t in facts.tags if t != self.tag)}

    def describe(self) -> str:
        return f"remove tag {self.tag!r}"


class SetStatus(_Action):
    type: Literal["set_status"] = "set_status"
    status: TicketStatus

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        return _status_change(facts, self.status)

    def describe(self) -> str:
        return f"set status to {self.status.value}"


class SendNotification(_Action):
    """Notify someone. `assignee` (alias `agent`), `requester`, `manager` (of the ticket's
    department) or a user id; without a target the requester is told (the seed's
    "closed for inactivity" message is for them)."""

    type: Literal["send_notification"] = "send_notification"
    target: Target = "requester"
    message: Text

    def describe(self) -> str:
        return f"notify {self.target}: {self.message}"


class AddComment(_Action):
    """Add a comment; private by default, so a rule never answers the requester unasked."""

    type: Literal["add_comment"] = "add_comment"
    body: LongText
    private: bool = True

    def describe(self) -> str:
        return f"add a {'private note' if self.private else 'public reply'}"


class CreateIncident(_Action):
    type: Literal["create_incident"] = "create_incident"

    def describe(self) -> str:
        return "open an incident"


class AutoResolve(_Action):
    type: Literal["auto_resolve"] = "auto_resolve"
    solution: LongText

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        return _status_change(facts, TicketStatus.RESOLVED)

    def describe(self) -> str:
        return "resolve the ticket"


class Escalate(_Action):
    type: Literal["escalate"] = "escalate"
    level: int = Field(1, ge=1, le=10)

    def describe(self) -> str:
        return f"escalate to level {self.level}"


class Close(_Action):
    """Close the ticket; `for_inactivity` marks it closed for inactivity (the seed's
    `close_automatically` sets it)."""

    type: Literal["close"] = "close"
    for_inactivity: bool = False

    def fact_changes(self, facts: TicketFacts) -> dict[str, Any]:
        return _status_change(facts, TicketStatus.CLOSED)

    def describe(self) -> str:
        return "close the ticket" + (" for inactivity" if self.for_inactivity else "")


ACTION_TYPES: Mapping[str, type[_Action]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        SetPriority,
        AssignAgent,
        AssignDepartment,
        AddTag,
        RemoveTag,
        SetStatus,
        SendNotification,
        AddComment,
        CreateIncident,
        AutoResolve,
        Escalate,
        Close,
    )
}
ACTION_ALIASES: Mapping[str, str] = {
    "assign_priority": "set_priority",
    "close_automatically": "close",
}


def _normalise(data: Any) -> Any:
    if isinstance(data, _Action):
        return data
    if not isinstance(data, dict) or "type" not in data:
        raise ValueError('an action is an object with a "type"')
    kind = data["type"]
    allowed = ", ".join(sorted([*ACTION_TYPES, *ACTION_ALIASES]))
    # Checked before any lookup: a list or an object is no key (and must not be a 500).
    if not isinstance(kind, str):
        raise ValueError(f"the action type must be text; allowed: {allowed}")
    if kind == "close_automatically":
        data = {"for_inactivity": True, **data}
    kind = ACTION_ALIASES.get(kind, kind)
    if kind not in ACTION_TYPES:
        raise ValueError(f"unknown action type {data['type']!r}; allowed: {allowed}")
    return {**data, "type": kind}


Action = Annotated[
    Annotated[
        SetPriority
        | AssignAgent
        | AssignDepartment
        | AddTag
        | RemoveTag
        | SetStatus
        | SendNotification
        | AddComment
        | CreateIncident
        | AutoResolve
        | Escalate
        | Close,
        Field(discriminator="type"),
    ],
    BeforeValidator(_normalise),
]

__all__ = [
    "ACTION_ALIASES",
    "ACTION_TYPES",
    "Action",
    "AddComment",
    "AddTag",
    "AssignAgent",
    "AssignDepartment",
    "AutoResolve",
    "Close",
    "CreateIncident",
    "Escalate",
    "RemoveTag",
    "SendNotification",
    "SetPriority",
    "SetStatus",
]
