"""An inbound e-mail becomes a reply on the ticket it answers, or a new ticket.

It answers a ticket when its In-Reply-To/References carry one of our Message-IDs or its
subject carries `[#123]`, and the sender may see that ticket (its requester, or staff who
work it). A reply to a closed ticket opens a follow-up ticket instead, as helpdesks do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from email.utils import parseaddr
from uuid import UUID, uuid5

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.tickets import TicketCreate
from api.services import account_messages
from api.services import tickets as tickets_service
from api.services.file_store import FileStore
from api.services.inbound import attachments, delivery, people
from api.services.inbound.delivery import Landed
from api.services.inbound.mail import InboundEmail
from domain.enums import Source, TicketStatus
from domain.errors import InvalidInput, NotFound
from domain.messages import ExternalReply
from persistence.models import User
from ticketflow.settings import Settings

log = logging.getLogger(__name__)

_EMAIL_NS = UUID("7d0f9a52-61c4-4b1e-9f0a-2f3e8c5d1a47")


def comment_id_for(message_key: str) -> UUID:
    """The comment an e-mail becomes: the same for every redelivery of that e-mail."""
    return uuid5(_EMAIL_NS, message_key)


def idempotency_key(message_key: str) -> str:
    return f"email:{uuid5(_EMAIL_NS, message_key)}"


def ignored_because(mail: InboundEmail, settings: Settings) -> str | None:
    """Mail that must not become tickets: auto-replies, and our own messages bounced back."""
    if mail.auto_submitted:
        return "auto-submitted"
    if mail.sender == parseaddr(settings.mail_from)[1].strip().lower():
        return "sent by ticketflow itself"
    return None


async def _answered_ticket(
    session: AsyncSession, client: Client, settings: Settings, sender: User, mail: InboundEmail
) -> tickets_service.TicketRef | None:
    """The first ticket the e-mail points at that the sender may write into."""
    for number in mail.thread_numbers(settings.mail_domain):
        try:
            return await tickets_service.find_ticket(session, client, sender, str(number))
        except (NotFound, InvalidInput):
            log.info("e-mail %s names ticket #%s, which its sender cannot see", mail.key, number)
    return None


def _reply_body(mail: InboundEmail) -> str:
    if mail.body:
        return mail.body
    if mail.attachments:
        return "Attached: " + ", ".join(
            attachments.safe_filename(f.filename) for f in mail.attachments
        )
    return mail.subject


def _new_ticket(
    mail: InboundEmail, department_id: UUID | None, follow_up_of: int | None
) -> TicketCreate:
    metadata: dict[str, object] = {"email": {"from": mail.sender, "message_id": mail.message_id}}
    if follow_up_of is not None:
        metadata["follow_up_of"] = follow_up_of
    try:
        return TicketCreate(
            title=mail.title(),
            description=mail.body or mail.subject,
            department_id=department_id,
            source=Source.EMAIL,
            metadata=metadata,
        )
    except ValidationError as error:
        raise InvalidInput(
            f"the e-mail cannot make a ticket: {error.errors()[0]['msg']}"
        ) from error


async def _reply(
    client: Client,
    ticket: tickets_service.TicketRef,
    sender: User,
    mail: InboundEmail,
    files: Sequence[attachments.StoredFile],
) -> Landed | None:
    comment_id = comment_id_for(mail.key)
    reply = ExternalReply(
        author_id=sender.id,
        author_role=sender.role,
        body=_reply_body(mail),
        source=Source.EMAIL,
        message_id=mail.message_id,
        comment_id=comment_id,
        attachments=[f.url for f in files],
    )
    if await delivery.signal_ticket(client, ticket.number, "external_reply", reply):
        return Landed(ticket.number, comment_id)
    return None


async def _land(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    sender: User,
    mail: InboundEmail,
    files: Sequence[attachments.StoredFile],
) -> Landed:
    key = idempotency_key(mail.key)
    earlier = await delivery.earlier_ticket(session, sender, key)
    if earlier is not None:
        return Landed(earlier)
    ticket = await _answered_ticket(session, client, settings, sender, mail)
    if ticket is None:
        department_id = await delivery.department_for(session, mail.recipients)
        body = _new_ticket(mail, department_id, follow_up_of=None)
    else:
        if ticket.view.status is not TicketStatus.CLOSED:
            landed = await _reply(client, ticket, sender, mail, files)
            if landed is not None:
                return landed
        # A follow-up stays with the team that had the closed ticket.
        body = _new_ticket(mail, ticket.view.department_id, follow_up_of=ticket.number)
    return await delivery.open_ticket(session, client, settings, sender, body, key)


async def receive_email(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    files: FileStore,
    mail: InboundEmail,
) -> Landed:
    """Land the e-mail (the caller has checked it is not one to ignore) and file its attachments."""
    bound = await people.requester_for_email(session, settings, mail.sender, mail.sender_name)
    if bound.invitation is not None:
        await account_messages.start(session, client, settings, bound.invitation)
    sender = bound.user
    stored = await attachments.store(files, mail.key, mail.attachments)
    landed = await _land(session, client, settings, sender, mail, stored)
    await attachments.link(
        session,
        stored,
        ticket_number=landed.ticket,
        comment_id=landed.comment_id,
        uploaded_by=sender.id,
    )
    return landed
