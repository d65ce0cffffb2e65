"""Slack messages with Block Kit buttons that act on the ticket, via slack-sdk's async client."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from activities.channels.base import (
    PROVIDER_TIMEOUT_SECONDS,
    OutboundMessage,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
    error_for_status,
    parse_retry_after,
)

SLACK_DEFAULT_URL = "https://slack.com/api/"
METADATA_EVENT_TYPE = "ticketflow_notification"

# action_id -> label; the interactivity endpoint dispatches on these ids.
TICKET_ACTIONS = {
    "assign_to_me": "Assign to me",
    "acknowledge": "Acknowledge",
    "resolve": "Resolve",
}

# Errors Slack reports with ok:false that mean "not now" rather than "never".
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_SECTION_MAX_CHARS = 3000
_PARTIAL_ENTITY = re.compile(r"&[a-z]*$")


def ticket_blocks(
    *,
    subject: str,
    body: str,
    ticket_number: int | None = None,
    ticket_url: str | None = None,
    urgent: bool = False,
    note: str | None = None,
    buttons: bool = True,
) -> list[dict[str, Any]]:
    """Block Kit for a ticket notification; `note` and `buttons=False` suit a rewritten message.

    The buttons carry the ticket number as their value and exist only for a numbered ticket.
    """
    title = f":rotating_light: {subject}" if urgent else subject
    text = f"*{_escape(title)}*\n{_escape(body)}"
    if len(text) > _SECTION_MAX_CHARS:
        # Cut, then drop an entity the cut may have split ("&am").
        text = _PARTIAL_ENTITY.sub("", text[: _SECTION_MAX_CHARS - 1]) + "…"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    context = []
    if ticket_url:
        label = f"Ticket #{ticket_number}" if ticket_number is not None else "Ticket"
        context.append(MarkdownTextObject(text=f"<{ticket_url}|{label}>"))
    if note:
        context.append(MarkdownTextObject(text=_escape(note)))
    if context:
        blocks.append(ContextBlock(elements=context))
    if buttons and ticket_number is not None:
        blocks.append(_action_buttons(ticket_number))
    return [block.to_dict() for block in blocks]


def message_blocks(message: OutboundMessage) -> list[dict[str, Any]]:
    """Block Kit for an outbound notification, with the ticket's buttons."""
    return ticket_blocks(
        subject=message.subject,
        body=message.body,
        ticket_number=message.ticket_number,
        ticket_url=message.ticket_url,
        urgent=message.urgent,
    )


def _action_buttons(ticket_number: int) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"ticket-{ticket_number}",
        elements=[
            ButtonElement(
                text=label,
                action_id=action_id,
                value=str(ticket_number),
                style="primary" if action_id == "acknowledge" else None,
            )
            for action_id, label in TICKET_ACTIONS.items()
        ],
    )


def _escape(text: str) -> str:
    # The three characters Slack's mrkdwn reserves for links and mentions.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackChannel:
    """Posts as the bot to a user or channel id; the receipt id is `<channel>:<ts>`."""

    def __init__(self, token: str, api_url: str | None = None) -> None:
        self._client = AsyncWebClient(
            token=token,
            base_url=api_url or SLACK_DEFAULT_URL,
            timeout=int(PROVIDER_TIMEOUT_SECONDS),
            # The default handlers retry connection errors in-process; Temporal retries instead.
            retry_handlers=[],
        )

    async def send(self, message: OutboundMessage) -> Receipt:
        payload: dict[str, Any] = {"idempotency_key": message.idempotency_key}
        if message.ticket_number is not None:
            payload["ticket_number"] = message.ticket_number
        blocks = message_blocks(message)
        try:
            response = await self._client.chat_postMessage(
                channel=message.to,
                text=message.subject,
                blocks=blocks,
                metadata=Metadata(event_type=METADATA_EVENT_TYPE, event_payload=payload),
                unfurl_links=False,
            )
        except SlackApiError as error:
            raise _provider_error(error) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ProviderUnavailable(None, f"Slack unreachable: {error}") from error
        return Receipt(provider_message_id=f"{response['channel']}:{response['ts']}")


def _provider_error(error: SlackApiError) -> ProviderRejected | ProviderUnavailable:
    response = error.response
    if not isinstance(response, AsyncSlackResponse):
        # The SDK hands over the raw HTTP response when the body was not the JSON it announced.
        return ProviderUnavailable(getattr(response, "status", None), str(error))
    retry_after = response.headers.get("Retry-After")
    code = response.get("error") if isinstance(response.data, dict) else None
    detail = str(code or f"HTTP {response.status_code}")
    if response.status_code != 200:
        return error_for_status(response.status_code, detail, retry_after)
    if code in _TRANSIENT_ERRORS:
        return ProviderUnavailable(response.status_code, detail, parse_retry_after(retry_after))
    return ProviderRejected(response.status_code, detail)
