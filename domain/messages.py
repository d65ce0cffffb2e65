"""Inputs and outputs of the ticket workflow's messages, and of its read-model writes.

Every model here is plain JSON an agent can type into the Temporal Web UI.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.enums import Priority, Role, Source, TicketStatus
from domain.policies import PolicySet
from domain.rules import Rule
from domain.ticket import (
    CommentRecord,
    HistoryEntry,
    NotificationIntent,
    TicketDraft,
    TicketState,
)
from domain.views import TicketView


class AssignInput(BaseModel):
    assignee_id: UUID | None = None
    actor_id: UUID | None = None


class SetPriorityInput(BaseModel):
    priority: Priority
    actor_id: UUID | None = None


class SetStatusInput(BaseModel):
    status: TicketStatus
    note: str | None = None
    actor_id: UUID | None = None


class CommentInput(BaseModel):
    author_id: UUID
    body: str = Field(min_length=1, max_length=65_536)
    author_role: Role = Role.AGENT
    private: bool = False
    mentions: list[UUID] = Field(default_factory=list)
    attachments: list[str] = Field(default_factory=list)
    comment_id: UUID | None = None


class EditInput(BaseModel):
    """Change a ticket's descriptive fields; an absent (null) field stays as it is.

    `policies`, when given, are the SLA policies in force: the ticket re-selects its policy
    from them after the edit (as on `policy_changed`) if its category changed, and its
    running clocks re-target keeping the time already spent.
    """

    title: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = Field(None, min_length=1, max_length=65_536)
    category: str | None = Field(None, min_length=1, max_length=100)
    subcategory: str | None = Field(None, max_length=100)
    clear_subcategory: bool = Field(False, description="set the subcategory to none")
    tags: list[str] | None = Field(None, max_length=50)
    actor_id: UUID | None = None
    actor_role: Role = Field(
        Role.AGENT, description="a requester may only change the title and description"
    )
    policies: PolicySet | None = None

    def changes(self) -> dict[str, Any]:
        """The fields this edit sets, by name."""
        changes: dict[str, Any] = {
            name: value
            for name in ("title", "description", "category", "subcategory", "tags")
            if (value := getattr(self, name)) is not None
        }
        if self.clear_subcategory:
            changes["subcategory"] = None
        return changes


class AttachInput(BaseModel):
    """A file stored for the ticket: it becomes an entry on the timeline."""

    attachment_id: UUID
    filename: str = Field(min_length=1, max_length=255)
    content_type: str | None = Field(None, max_length=255)
    size_bytes: int = Field(ge=0)
    actor_id: UUID | None = None


class ResolveInput(BaseModel):
    solution: str | None = None
    actor_id: UUID | None = None


class CloseInput(BaseModel):
    actor_id: UUID | None = None


class ReopenInput(BaseModel):
    actor_id: UUID | None = None


class MergeInput(BaseModel):
    """Close this ticket as a duplicate of another (which stays open and gets a note)."""

    into_id: UUID
    into_number: int
    actor_id: UUID | None = None


class RateInput(BaseModel):
    score: int = Field(ge=1, le=10)
    feedback: str | None = None
    actor_id: UUID | None = None


class SlackAction(BaseModel):
    """A button pressed on a ticket's Slack message, by the agent the Slack user maps to."""

    action: Literal["assign_to_me", "acknowledge", "resolve"]
    agent_id: UUID
    slack_user_id: str | None = None


class Dispatch(BaseModel):
    """One send the read-model write planned: a notification row or a webhook delivery row."""

    kind: Literal["notification", "webhook"]
    id: UUID


class ReadModelOutcome(BaseModel):
    """What a read-model write leaves for the workflow to start: each a durable activity."""

    dispatches: list[Dispatch] = Field(default_factory=list)


class ExternalReply(BaseModel):
    """A reply that arrived through an integration (e-mail, SMS, chat)."""

    author_id: UUID
    body: str = Field(min_length=1)
    author_role: Role = Field(
        Role.USER, description="an agent answering by e-mail gives a first response"
    )
    source: Source = Source.EMAIL
    message_id: str | None = None
    comment_id: UUID | None = None
    attachments: list[str] = Field(default_factory=list)


class HistoryQuery(BaseModel):
    include_private: bool = True


class ReadModelBatch(BaseModel):
    """One idempotent write of a ticket's read model: its latest snapshot and new rows."""

    ticket: TicketView
    requester_role: Role
    history: list[HistoryEntry] = Field(default_factory=list)
    comments: list[CommentRecord] = Field(default_factory=list)
    notifications: list[NotificationIntent] = Field(default_factory=list)
    first_write: bool = Field(
        True,
        description=(
            "The ticket's first write, the only one that may create its row: a later write "
            "that finds no row (the ticket was deleted meanwhile) is dropped."
        ),
    )


class TicketWorkflowInput(BaseModel):
    """Start a ticket from its draft, or carry a running ticket over a continue-as-new."""

    draft: TicketDraft | None = None
    state: TicketState | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list, description="Automation rules to run.")
    time_rules_held: list[str] = Field(
        default_factory=list, description="Time rules whose conditions held at the last check."
    )
    continue_as_new_after: int | None = Field(
        None, description="Continue as new past this many history events (tests and tuning)."
    )


class RulesChanged(BaseModel):
    """The automation rules now in force (sent to every open ticket when they change)."""

    rules: list[Rule] = Field(default_factory=list)


class PickAgentInput(BaseModel):
    department_id: UUID
    category: str | None = None
    exclude: list[UUID] = Field(default_factory=list)


class PickAgentResult(BaseModel):
    agent_id: UUID | None = None


class PolicyChanged(BaseModel):
    """The SLA policies now in force (sent to every open ticket when one changes)."""

    policies: PolicySet
