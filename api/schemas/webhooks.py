"""What the inbound webhooks answer, and the Slack interaction payload they read."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class InboundReceipt(BaseModel):
    """Where an inbound message landed: a new ticket, a comment on one, or held for admins."""

    ticket: int | None = Field(description="the ticket's number (null when ignored)")
    comment_id: UUID | None = Field(
        None, description="the comment the message became; null when it opened the ticket"
    )
    ignored: str | None = Field(
        None, description="why nothing was done (an auto-reply, a message from ourselves)"
    )
    held: UUID | None = Field(
        None,
        description=(
            "e-mail only: the held e-mail's id when the sender's domain did not vouch for it "
            "(no aligned DKIM or SPF pass); it waits for an admin and changed nothing"
        ),
    )


class SlackUser(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64)


class SlackButton(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action_id: str = Field(max_length=255)
    value: str | None = Field(None, max_length=2000)


class SlackInteraction(BaseModel):
    """The part of Slack's interactivity payload a ticket button needs."""

    model_config = ConfigDict(extra="ignore")

    type: str
    user: SlackUser
    actions: list[SlackButton] = Field(default_factory=list)
    response_url: str | None = Field(None, max_length=2048)


class SlackAck(BaseModel):
    """The acknowledgement Slack waits for; a text only when the press did nothing."""

    response_type: Literal["ephemeral"] | None = None
    replace_original: bool | None = None
    text: str | None = None

    @classmethod
    def saying(cls, text: str) -> SlackAck:
        return cls(response_type="ephemeral", replace_original=False, text=text)
