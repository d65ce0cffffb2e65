"""SMS through Twilio's Messages API."""

from __future__ import annotations

import asyncio
from typing import Any

import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from activities.channels.base import (
    PROVIDER_TIMEOUT_SECONDS,
    OutboundMessage,
    ProviderUnavailable,
    Receipt,
    describe_body,
    error_for_status,
)

# Twilio's cap on a message body; longer texts are refused, not split.
SMS_MAX_CHARS = 1600
_ELLIPSIS = "…"


def sms_text(message: OutboundMessage) -> str:
    """Subject, body and ticket link in one text of at most SMS_MAX_CHARS; the body gives way."""
    tail = f"\n{message.ticket_url}" if message.ticket_url else ""
    text = f"{message.subject}\n{message.body}".strip()
    room = SMS_MAX_CHARS - len(tail)
    if len(text) > room:
        text = text[: room - len(_ELLIPSIS)].rstrip() + _ELLIPSIS
    return text + tail


def _raise_for_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    # A response hook sees the headers (Retry-After) that TwilioRestException drops.
    # Redirects are not followed, so a 3xx fails here too, rather than as an SDK exception.
    if response.status_code >= 300:
        raise error_for_status(
            response.status_code,
            describe_body(response.content),
            response.headers.get("Retry-After"),
        )


class SmsChannel:
    """Sends from one Twilio number; the SDK's client is sync, so each send runs in a thread."""

    def __init__(
        self, account_sid: str, auth_token: str, sender: str, base_url: str | None = None
    ) -> None:
        self._http = TwilioHttpClient(
            timeout=PROVIDER_TIMEOUT_SECONDS, request_hooks={"response": [_raise_for_status]}
        )
        self._client = Client(account_sid, auth_token, http_client=self._http)
        if base_url:
            # Every Messages URL is built from the Api domain's base_url.
            self._client.api.base_url = base_url
        self._sender = sender

    async def send(self, message: OutboundMessage) -> Receipt:
        return await asyncio.to_thread(self._create, message.to, sms_text(message))

    def _create(self, to: str, body: str) -> Receipt:
        try:
            created = self._client.messages.create(to=to, from_=self._sender, body=body)
        except requests.RequestException as error:
            raise ProviderUnavailable(None, f"Twilio unreachable: {error}") from error
        return Receipt(provider_message_id=created.sid)

    def close(self) -> None:
        """Release the pooled connections."""
        if self._http.session is not None:
            self._http.session.close()
