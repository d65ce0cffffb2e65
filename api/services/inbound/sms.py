"""An inbound SMS (or WhatsApp message) from Twilio: a reply on the sender's latest open
ticket, or a new ticket when they have none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID, uuid5

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.tickets import TicketCreate
from api.services import account_messages
from api.services.inbound import delivery, people
from api.services.inbound.delivery import Landed
from domain.enums import Source
from domain.errors import InvalidInput
from domain.messages import ExternalReply
from ticketflow.settings import Settings

_SMS_NS = UUID("5b8e2d3c-0f71-4c3a-8e6b-9a1d4f7c2e05")
_PHONE = re.compile(r"^\+?[0-9]{3,15}$")
_SID = re.compile(r"^[A-Za-z0-9]{10,64}$")
TITLE_CHARS = 80
MAX_BODY = 65_536
MAX_MEDIA = 10  # Twilio's own limit per message


@dataclass(frozen=True)
class InboundSms:
    sender: str  # E.164, as Twilio gives it
    body: str
    message_sid: str
    source: Source
    media: tuple[str, ...]

    def title(self) -> str:
        words = " ".join(self.body.split())
        return words[:TITLE_CHARS] or f"Message from {self.sender}"


def read_twilio_form(params: Iterable[tuple[str, object]]) -> InboundSms:
    """The message in a Twilio webhook's form parameters."""
    fields: dict[str, str] = {}
    for name, value in params:
        if isinstance(value, str) and name not in fields:
            fields[name] = value.replace("\x00", "")
    sender = fields.get("From", "").strip()
    source = Source.SMS
    if sender.lower().startswith("whatsapp:"):
        sender, source = sender.split(":", 1)[1], Source.WHATSAPP
    if not _PHONE.match(sender):
        raise InvalidInput("`From` must be a phone number in E.164 form")
    sid = fields.get("MessageSid") or fields.get("SmsSid") or ""
    if not _SID.match(sid):
        raise InvalidInput("`MessageSid` is missing or malformed")
    # Twilio always sends both (Body empty for a picture alone): a form without them is not
    # a message, whatever it says.
    if "Body" not in fields:
        raise InvalidInput("`Body` is missing")
    declared = fields.get("NumMedia", "0")
    if not declared.isdigit():
        raise InvalidInput("`NumMedia` must be a whole number")
    media_count = min(int(declared), MAX_MEDIA)
    media = tuple(fields[f"MediaUrl{i}"] for i in range(media_count) if f"MediaUrl{i}" in fields)
    return InboundSms(sender, fields["Body"].strip()[:MAX_BODY], sid, source, media)


def comment_id_for(message_sid: str) -> UUID:
    return uuid5(_SMS_NS, message_sid)


def _text(sms: InboundSms) -> str:
    if sms.body:
        return sms.body
    return "Media: " + ", ".join(sms.media) if sms.media else "(empty message)"


async def receive_sms(
    session: AsyncSession, client: Client, settings: Settings, sms: InboundSms
) -> Landed:
    bound = await people.requester_for_phone(session, settings, sms.sender)
    if bound.invitation is not None:
        await account_messages.start(session, client, settings, bound.invitation)
    sender = bound.user
    key = f"sms:{sms.message_sid}"
    earlier = await delivery.earlier_ticket(session, sender, key)
    if earlier is not None:  # a redelivery of the message that opened it
        return Landed(earlier)
    number = await delivery.latest_open_ticket(session, sender.id)
    if number is not None:
        comment_id = comment_id_for(sms.message_sid)
        reply = ExternalReply(
            author_id=sender.id,
            author_role=sender.role,
            body=_text(sms),
            source=sms.source,
            message_id=sms.message_sid,
            comment_id=comment_id,
        )
        if await delivery.signal_ticket(client, number, "external_reply", reply):
            return Landed(number, comment_id)
    metadata = {
        "sms": {"from": sms.sender, "message_sid": sms.message_sid, "media": list(sms.media)}
    }
    body = TicketCreate(
        title=sms.title(), description=_text(sms), source=sms.source, metadata=metadata
    )
    return await delivery.open_ticket(session, client, settings, sender, body, key)
