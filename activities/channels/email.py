"""E-mail through SendGrid's v3 mail/send API, threaded so replies find their ticket."""

from __future__ import annotations

import asyncio
import base64
import http.client
import logging
import re
from dataclasses import dataclass
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    Header,
    Mail,
)

from activities.channels.base import (
    PROVIDER_TIMEOUT_SECONDS,
    OutboundMessage,
    ProviderUnavailable,
    Receipt,
    describe_body,
    error_for_status,
)

SENDGRID_DEFAULT_URL = "https://api.sendgrid.com"

# SendGrid's HTTP client logs every request body at DEBUG: whole e-mails, the reset and
# invitation links in them included. Whatever level the root logger runs at, not those.
logging.getLogger("python_http_client.client").setLevel(logging.INFO)

_NOT_ATOM = re.compile(r"[^A-Za-z0-9_-]+")


def message_id(idempotency_key: str, ticket_number: int, mail_domain: str) -> str:
    """The Message-ID of a ticket's e-mail; inbound mail threads on its `ticket-<n>@` part."""
    local = _NOT_ATOM.sub(".", idempotency_key).strip(".") or "notification"
    return f"<{local}.ticket-{ticket_number}@{mail_domain}>"


def ticket_subject(subject: str, ticket_number: int | None) -> str:
    """The subject with the `[#<n>]` tag replies are matched on, added once."""
    if ticket_number is None:
        return subject
    tag = f"[#{ticket_number}]"
    return subject if tag in subject else f"{tag} {subject}"


@dataclass(frozen=True, slots=True)
class MailFile:
    """A file sent along with a message (a scheduled report)."""

    name: str
    content_type: str
    content: bytes


class EmailChannel:
    """Sends plain-text e-mail from one sender address; SendGrid's client is sync (a thread)."""

    def __init__(
        self, api_key: str, mail_from: str, mail_domain: str, base_url: str | None = None
    ) -> None:
        self._client = SendGridAPIClient(api_key=api_key, host=base_url or SENDGRID_DEFAULT_URL)
        self._client.client.timeout = PROVIDER_TIMEOUT_SECONDS
        self._mail_from = mail_from
        self._mail_domain = mail_domain

    async def send(self, message: OutboundMessage, attachment: MailFile | None = None) -> Receipt:
        mail = self._mail(message)
        if attachment is not None:
            mail.attachment = Attachment(
                FileContent(base64.b64encode(attachment.content).decode("ascii")),
                FileName(attachment.name),
                FileType(attachment.content_type.split(";")[0]),
                Disposition("attachment"),
            )
        return await asyncio.to_thread(self._post, mail)

    def _mail(self, message: OutboundMessage) -> Mail:
        body = message.body
        if message.ticket_url:
            body = f"{body}\n\n{message.ticket_url}"
        mail = Mail(
            from_email=self._mail_from,
            to_emails=message.to,
            subject=ticket_subject(message.subject, message.ticket_number),
            plain_text_content=body,
        )
        mail.custom_arg = CustomArg("idempotency_key", message.idempotency_key)
        if message.ticket_number is not None:
            mail.header = Header(
                "Message-ID",
                message_id(message.idempotency_key, message.ticket_number, self._mail_domain),
            )
        return mail

    def _post(self, mail: Mail) -> Receipt:
        try:
            response: Any = self._client.send(mail)
        except HTTPError as error:
            raise error_for_status(
                error.status_code, describe_body(error.body), error.headers.get("Retry-After")
            ) from error
        except (OSError, http.client.HTTPException) as error:
            raise ProviderUnavailable(None, f"SendGrid unreachable: {error}") from error
        return Receipt(provider_message_id=response.headers.get("X-Message-Id"))
