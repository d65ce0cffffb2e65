"""Microsoft Teams through an incoming webhook (a Workflows or legacy connector URL).

The URL is an admin's: it is reached only through the outbound guard (`security.outbound`),
which refuses inward addresses (`OutboundRefused` is raised as it is) and follows no redirect.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from activities.channels.base import (
    PROVIDER_TIMEOUT_SECONDS,
    OutboundMessage,
    ProviderRejected,
    ProviderUnavailable,
    Receipt,
    describe_body,
    error_for_status,
)
from security.outbound import OutboundGuard

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# Workflows webhooks take Adaptive Cards only; 1.4 renders on every Teams client.
ADAPTIVE_CARD_VERSION = "1.4"

# Legacy connectors answer 200 and report the real failure in the body text.
_WRAPPED_FAILURE = re.compile(r"returned HTTP error (\d{3})")


def teams_card(message: OutboundMessage) -> dict[str, Any]:
    """The webhook payload: one Adaptive Card in a message envelope, linking to the ticket."""
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "body": [
            {
                "type": "TextBlock",
                "text": message.subject,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                **({"color": "Attention"} if message.urgent else {}),
            },
            {"type": "TextBlock", "text": message.body, "wrap": True},
        ],
    }
    if message.ticket_url:
        title = f"#{message.ticket_number}" if message.ticket_number is not None else "Ticket"
        card["actions"] = [{"type": "Action.OpenUrl", "title": title, "url": message.ticket_url}]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


class TeamsChannel:
    """Posts to the webhook URL in `message.to`; the URL is the credential, so always on.

    Without a `guard`, only publicly routable receivers are reached.
    """

    def __init__(self, guard: OutboundGuard | None = None) -> None:
        self._guard = guard or OutboundGuard()

    async def send(self, message: OutboundMessage) -> Receipt:
        try:
            async with self._guard.client(PROVIDER_TIMEOUT_SECONDS) as client:
                response = await client.post(message.to, json=teams_card(message))
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            raise ProviderRejected(None, f"Teams webhook URL unusable: {error}") from error
        except httpx.HTTPError as error:
            raise ProviderUnavailable(None, f"Teams unreachable: {error}") from error
        detail = describe_body(response.content)
        if not response.is_success:
            raise error_for_status(
                response.status_code, detail, response.headers.get("Retry-After")
            )
        if wrapped := _WRAPPED_FAILURE.search(response.text):
            raise error_for_status(int(wrapped.group(1)), detail)
        # Workflows webhooks name the flow run that will post the card.
        return Receipt(provider_message_id=response.headers.get("x-ms-workflow-run-id"))
