"""Buttons pressed on a ticket's Slack message: Assign to me, Acknowledge, Resolve.

The press is acknowledged at once (Slack allows three seconds). The Slack user must map to an
agent who may see the ticket by the API's rule (`api.services.access`: their departments'
tickets; admins all); anyone else is told so, to themselves alone, and nothing changes. The
action goes to the ticket's workflow as the `slack_action` signal, and the message is then
replaced, through the payload's `response_url`, with the ticket as it now stands.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import parse_qs
from uuid import UUID

from pydantic import ValidationError
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.channels.slack import ticket_blocks
from api.paths import API_PREFIX
from api.schemas.webhooks import SlackAck, SlackInteraction
from api.services import tickets as tickets_service
from api.services.inbound import delivery, people
from domain.enums import TicketStatus
from domain.errors import InvalidInput, NotFound
from domain.messages import SlackAction
from domain.views import TicketView
from persistence.models import User
from persistence.repositories import users as users_repo
from ticketflow.settings import Settings

log = logging.getLogger(__name__)

Action = Literal["assign_to_me", "acknowledge", "resolve"]
ACTIONS: tuple[Action, ...] = get_args(Action)
_DONE: dict[Action, str] = {
    "assign_to_me": "took this ticket",
    "acknowledge": "acknowledged this ticket",
    "resolve": "resolved this ticket",
}
_VERB: dict[Action, str] = {
    "assign_to_me": "take",
    "acknowledge": "acknowledge",
    "resolve": "resolve",
}
NOT_AN_AGENT = (
    "You are not a ticketflow agent, so this button did nothing. An admin can link your "
    "Slack account to your agent profile."
)
RESPONSE_TIMEOUT_S = 10


def parse_interaction(body: bytes) -> SlackInteraction:
    """The `payload` field of Slack's form-encoded interactivity request."""
    form = parse_qs(body.decode("utf-8", "replace"))
    raw = form.get("payload", [""])[0]
    if not raw:
        raise InvalidInput("the request has no `payload` field")
    try:
        return SlackInteraction.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError) as error:
        raise InvalidInput("`payload` is not a Slack interaction") from error


@dataclass(frozen=True)
class Pressed:
    """A press that reached the ticket: the message to refresh once the ticket has moved."""

    number: int
    action: Action
    agent_id: UUID
    agent_name: str
    response_url: str | None
    url: str  # the ticket, for people reading the message


@dataclass(frozen=True)
class Outcome:
    ack: SlackAck
    pressed: Pressed | None = None


def _ticket_number(value: str | None) -> int | None:
    text = (value or "").strip().lstrip("#")
    if text.isascii() and text.isdigit() and 0 < int(text) <= tickets_service.MAX_TICKET_NUMBER:
        return int(text)
    return None


async def press(
    session: AsyncSession, client: Client, settings: Settings, interaction: SlackInteraction
) -> Outcome:
    """Act on the first ticket button of a `block_actions` payload; other payloads are ignored."""
    if interaction.type != "block_actions":
        return Outcome(SlackAck())
    button = next((a for a in interaction.actions if a.action_id in ACTIONS), None)
    if button is None:
        return Outcome(SlackAck())
    number = _ticket_number(button.value)
    if number is None:
        return Outcome(SlackAck.saying("This button names no ticket."))
    slack_user_id = interaction.user.id
    agent = await people.agent_for_slack(
        session, slack_user_id, settings.slack_bot_token, settings.slack_api_url
    )
    if agent is None:
        return Outcome(SlackAck.saying(NOT_AN_AGENT))
    if not await _may_act_on(session, client, agent, number):
        return Outcome(SlackAck.saying(not_yours(number)))
    action: Action = next(a for a in ACTIONS if a == button.action_id)
    signal = SlackAction(action=action, agent_id=agent.id, slack_user_id=slack_user_id)
    if not await delivery.signal_ticket(client, number, "slack_action", signal):
        return Outcome(SlackAck.saying(f"Ticket #{number} can no longer be changed."))
    url = f"{settings.public_url.rstrip('/')}{API_PREFIX}/tickets/{number}"
    pressed = Pressed(number, action, agent.id, agent.name, interaction.response_url, url)
    return Outcome(SlackAck(), pressed)


async def _may_act_on(session: AsyncSession, client: Client, agent: User, number: int) -> bool:
    """Whether the agent may see the ticket, by the API's rule (their departments' tickets)."""
    try:
        await tickets_service.find_ticket(session, client, agent, str(number))
    except NotFound:
        return False
    return True


def not_yours(number: int) -> str:
    # The same words whether the ticket is another team's or does not exist, as the API's 404.
    return f"You cannot act on ticket #{number}: it is not one of your team's tickets."


# -- the refreshed message ---------------------------------------------------------------------


def outcome_note(view: TicketView, pressed: Pressed) -> str:
    """What the press did, read off the ticket after it (a refused signal changes nothing)."""
    done = {
        "assign_to_me": view.assignee_id == pressed.agent_id,
        "acknowledge": view.status is not TicketStatus.CLOSED,
        "resolve": view.status is TicketStatus.RESOLVED,
    }[pressed.action]
    if done:
        return f"{pressed.agent_name} {_DONE[pressed.action]}."
    status = view.status.value.replace("_", " ")
    return f"{pressed.agent_name} could not {_VERB[pressed.action]} this ticket: it is {status}."


def ticket_message(
    view: TicketView, assignee: str, note: str, url: str
) -> tuple[str, list[dict[str, Any]]]:
    """The ticket's message as notifications draw it, saying what just happened."""
    status = view.status.value.replace("_", " ")
    subject = f"#{view.number} {view.title}"
    blocks = ticket_blocks(
        subject=subject,
        body=f"{view.priority.value} · {status} · assigned to {assignee}",
        ticket_number=view.number,
        ticket_url=url,
        note=note,
        buttons=view.status.is_open,
    )
    return f"{subject} ({status}): {note}", blocks


async def _assignee_name(
    sessions: async_sessionmaker[AsyncSession], view: TicketView, pressed: Pressed
) -> str:
    if view.assignee_id is None:
        return "nobody"
    if view.assignee_id == pressed.agent_id:
        return pressed.agent_name
    async with sessions() as session:
        user = await users_repo.get(session, view.assignee_id)
    return user.name if user is not None else "a former agent"


async def _post(response_url: str, **message: object) -> None:
    client = AsyncWebhookClient(response_url, timeout=RESPONSE_TIMEOUT_S)
    response = await client.send_dict(message)
    if response.status_code != 200:
        log.warning("Slack refused the message update: %s %s", response.status_code, response.body)


async def refresh_message(
    client: Client, sessions: async_sessionmaker[AsyncSession], pressed: Pressed
) -> None:
    """Replace the pressed message with the ticket as it stands after the action."""
    if not pressed.response_url:
        return
    try:
        handle = client.get_workflow_handle(tickets_service.workflow_id(pressed.number))
        async with tickets_service.engine_deadline():
            # Queries see every signal the server took before them: this is the ticket after.
            view: TicketView = await handle.query("ticket", result_type=TicketView)
        assignee = await _assignee_name(sessions, view, pressed)
        text, blocks = ticket_message(view, assignee, outcome_note(view, pressed), pressed.url)
        await _post(pressed.response_url, replace_original=True, text=text, blocks=blocks)
    except Exception:
        # Runs after the answer went out: nobody is left to tell but the log.
        log.exception("could not update the Slack message of ticket #%s", pressed.number)


async def tell(response_url: str | None, text: str) -> None:
    """Say something to the presser alone (an ephemeral message)."""
    if not response_url:
        return
    try:
        await _post(response_url, response_type="ephemeral", replace_original=False, text=text)
    except Exception:
        log.exception("could not answer a Slack press")
